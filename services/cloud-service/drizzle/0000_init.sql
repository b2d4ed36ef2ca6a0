CREATE SCHEMA "cloud_service";
--> statement-breakpoint
CREATE TABLE "cloud_service"."cloud_service_types" (
	"cloud_service_type_id" text PRIMARY KEY NOT NULL,
	"domain_id" text NOT NULL,
	"key" text NOT NULL,
	"name" text NOT NULL,
	"group" text NOT NULL,
	"provider" text NOT NULL,
	"is_builtin" boolean DEFAULT false NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"tags" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "cloud_service"."cloud_services" (
	"cloud_service_id" text PRIMARY KEY NOT NULL,
	"domain_id" text NOT NULL,
	"workspace_id" text DEFAULT '' NOT NULL,
	"project_id" text DEFAULT '' NOT NULL,
	"name" text NOT NULL,
	"cloud_service_type" text NOT NULL,
	"cloud_service_group" text DEFAULT '' NOT NULL,
	"provider" text NOT NULL,
	"account" text DEFAULT '' NOT NULL,
	"state" text NOT NULL,
	"data" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"tags" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"reference" jsonb DEFAULT '{"resource_id":"","external_link":""}'::jsonb NOT NULL,
	"resource_id" text DEFAULT '' NOT NULL,
	"collector_id" text DEFAULT '' NOT NULL,
	"job_task_id" text DEFAULT '' NOT NULL,
	"miss_count" integer DEFAULT 0 NOT NULL,
	"last_collected_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "cloud_service"."outbox" (
	"id" uuid PRIMARY KEY NOT NULL,
	"sequence" bigint GENERATED ALWAYS AS IDENTITY (sequence name "cloud_service"."outbox_sequence_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"subject" text NOT NULL,
	"payload" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"published_at" timestamp with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text
);
--> statement-breakpoint
CREATE TABLE "cloud_service"."processed_events" (
	"consumer" text NOT NULL,
	"event_id" uuid NOT NULL,
	"processed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "processed_events_consumer_event_id_pk" PRIMARY KEY("consumer","event_id")
);
--> statement-breakpoint
CREATE UNIQUE INDEX "cloud_service_types_domain_key_provider_idx" ON "cloud_service"."cloud_service_types" USING btree ("domain_id","key","provider");--> statement-breakpoint
CREATE UNIQUE INDEX "cloud_services_live_resource_idx" ON "cloud_service"."cloud_services" USING btree ("domain_id","provider","cloud_service_type","resource_id") WHERE state <> 'DELETED' and resource_id <> '';--> statement-breakpoint
CREATE INDEX "cloud_services_resource_idx" ON "cloud_service"."cloud_services" USING btree ("domain_id","resource_id");--> statement-breakpoint
CREATE INDEX "cloud_services_domain_created_idx" ON "cloud_service"."cloud_services" USING btree ("domain_id","created_at","cloud_service_id");--> statement-breakpoint
CREATE INDEX "cloud_services_collector_account_idx" ON "cloud_service"."cloud_services" USING btree ("domain_id","collector_id","account");--> statement-breakpoint
CREATE INDEX "outbox_unpublished_idx" ON "cloud_service"."outbox" USING btree ("sequence") WHERE published_at is null;--> statement-breakpoint
CREATE INDEX "outbox_published_at_idx" ON "cloud_service"."outbox" USING btree ("published_at");