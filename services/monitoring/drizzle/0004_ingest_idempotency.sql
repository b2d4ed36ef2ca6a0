CREATE TABLE "monitoring"."ingest_keys" (
	"domain_id" text NOT NULL,
	"idempotency_key" text NOT NULL,
	"response" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ingest_keys_domain_id_idempotency_key_pk" PRIMARY KEY("domain_id","idempotency_key")
);
--> statement-breakpoint
CREATE INDEX "ingest_keys_created_at_idx" ON "monitoring"."ingest_keys" USING btree ("created_at");
