CREATE TABLE "identity"."service_identities" (
	"service_identity_id" text PRIMARY KEY NOT NULL,
	"domain_id" text NOT NULL,
	"workspace_id" text NOT NULL,
	"service" text NOT NULL,
	"credential_hash" text NOT NULL,
	"state" text DEFAULT 'ENABLED' NOT NULL,
	"granted_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone
);
--> statement-breakpoint
CREATE UNIQUE INDEX "service_identities_credential_hash_idx" ON "identity"."service_identities" USING btree ("credential_hash");
--> statement-breakpoint
CREATE INDEX "service_identities_domain_idx" ON "identity"."service_identities" USING btree ("domain_id","workspace_id");
