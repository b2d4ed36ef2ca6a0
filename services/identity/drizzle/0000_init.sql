CREATE SCHEMA "identity";
--> statement-breakpoint
CREATE TABLE "identity"."api_keys" (
	"api_key_id" text PRIMARY KEY NOT NULL,
	"domain_id" text NOT NULL,
	"user_id" text NOT NULL,
	"name" text DEFAULT '' NOT NULL,
	"key_hash" text NOT NULL,
	"key_prefix" text NOT NULL,
	"state" text DEFAULT 'ENABLED' NOT NULL,
	"expires_at" timestamp with time zone,
	"last_used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "identity"."domains" (
	"domain_id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"state" text DEFAULT 'ENABLED' NOT NULL,
	"tags" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "identity"."login_failures" (
	"domain_id" text NOT NULL,
	"user_id" text NOT NULL,
	"failures" integer DEFAULT 0 NOT NULL,
	"window_started_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "login_failures_domain_id_user_id_pk" PRIMARY KEY("domain_id","user_id")
);
--> statement-breakpoint
CREATE TABLE "identity"."outbox" (
	"id" uuid PRIMARY KEY NOT NULL,
	"sequence" bigint GENERATED ALWAYS AS IDENTITY (sequence name "identity"."outbox_sequence_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"subject" text NOT NULL,
	"payload" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"published_at" timestamp with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text
);
--> statement-breakpoint
CREATE TABLE "identity"."projects" (
	"domain_id" text NOT NULL,
	"project_id" text NOT NULL,
	"name" text NOT NULL,
	"workspace_id" text NOT NULL,
	"tags" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "projects_domain_id_project_id_pk" PRIMARY KEY("domain_id","project_id")
);
--> statement-breakpoint
CREATE TABLE "identity"."refresh_tokens" (
	"jti" text PRIMARY KEY NOT NULL,
	"domain_id" text NOT NULL,
	"user_id" text NOT NULL,
	"api_key_id" text,
	"expires_at" timestamp with time zone NOT NULL,
	"used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "identity"."role_bindings" (
	"domain_id" text NOT NULL,
	"user_id" text NOT NULL,
	"role" text NOT NULL,
	"workspace_id" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "role_bindings_domain_id_user_id_role_workspace_id_pk" PRIMARY KEY("domain_id","user_id","role","workspace_id")
);
--> statement-breakpoint
CREATE TABLE "identity"."secrets" (
	"secret_id" text PRIMARY KEY NOT NULL,
	"domain_id" text NOT NULL,
	"workspace_id" text NOT NULL,
	"name" text NOT NULL,
	"tags" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"service_account_id" text DEFAULT '' NOT NULL,
	"expires_at" timestamp with time zone,
	"key_id" text NOT NULL,
	"ciphertext" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "identity"."service_accounts" (
	"domain_id" text NOT NULL,
	"service_account_id" text NOT NULL,
	"name" text NOT NULL,
	"provider" text NOT NULL,
	"data" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"tags" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"project_id" text DEFAULT '' NOT NULL,
	"workspace_id" text NOT NULL,
	"secret_id" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "service_accounts_domain_id_service_account_id_pk" PRIMARY KEY("domain_id","service_account_id")
);
--> statement-breakpoint
CREATE TABLE "identity"."signing_keys" (
	"kid" text PRIMARY KEY NOT NULL,
	"public_jwk" jsonb NOT NULL,
	"private_key_ciphertext" text NOT NULL,
	"key_id" text NOT NULL,
	"active" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"retired_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "identity"."users" (
	"domain_id" text NOT NULL,
	"user_id" text NOT NULL,
	"name" text DEFAULT '' NOT NULL,
	"email" text DEFAULT '' NOT NULL,
	"state" text DEFAULT 'ENABLED' NOT NULL,
	"password_hash" text,
	"tags" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"last_login_at" timestamp with time zone,
	"tokens_revoked_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "users_domain_id_user_id_pk" PRIMARY KEY("domain_id","user_id")
);
--> statement-breakpoint
CREATE TABLE "identity"."workspaces" (
	"domain_id" text NOT NULL,
	"workspace_id" text NOT NULL,
	"name" text NOT NULL,
	"state" text DEFAULT 'ENABLED' NOT NULL,
	"tags" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "workspaces_domain_id_workspace_id_pk" PRIMARY KEY("domain_id","workspace_id")
);
--> statement-breakpoint
ALTER TABLE "identity"."role_bindings" ADD CONSTRAINT "role_bindings_domain_id_user_id_users_domain_id_user_id_fk" FOREIGN KEY ("domain_id","user_id") REFERENCES "identity"."users"("domain_id","user_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "api_keys_key_hash_idx" ON "identity"."api_keys" USING btree ("key_hash");--> statement-breakpoint
CREATE INDEX "api_keys_user_idx" ON "identity"."api_keys" USING btree ("domain_id","user_id");--> statement-breakpoint
CREATE INDEX "outbox_unpublished_idx" ON "identity"."outbox" USING btree ("sequence") WHERE published_at is null;--> statement-breakpoint
CREATE INDEX "outbox_published_at_idx" ON "identity"."outbox" USING btree ("published_at");--> statement-breakpoint
CREATE INDEX "projects_workspace_idx" ON "identity"."projects" USING btree ("domain_id","workspace_id");--> statement-breakpoint
CREATE INDEX "refresh_tokens_user_idx" ON "identity"."refresh_tokens" USING btree ("domain_id","user_id");--> statement-breakpoint
CREATE INDEX "role_bindings_workspace_idx" ON "identity"."role_bindings" USING btree ("domain_id","workspace_id");--> statement-breakpoint
CREATE UNIQUE INDEX "secrets_workspace_name_idx" ON "identity"."secrets" USING btree ("domain_id","workspace_id","name");--> statement-breakpoint
CREATE INDEX "service_accounts_workspace_idx" ON "identity"."service_accounts" USING btree ("domain_id","workspace_id");--> statement-breakpoint
CREATE UNIQUE INDEX "signing_keys_one_active_idx" ON "identity"."signing_keys" USING btree ("active") WHERE "identity"."signing_keys"."active";