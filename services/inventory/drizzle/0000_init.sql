CREATE SCHEMA "inventory";
--> statement-breakpoint
CREATE TABLE "inventory"."collectors" (
	"domain_id" text NOT NULL,
	"collector_id" text NOT NULL,
	"workspace_id" text NOT NULL,
	"name" text NOT NULL,
	"provider" text NOT NULL,
	"plugin_endpoint" text DEFAULT '' NOT NULL,
	"plugin_options" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"plugin_metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"schedule" jsonb,
	"tags" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"last_collected_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "collectors_domain_id_collector_id_pk" PRIMARY KEY("domain_id","collector_id")
);
--> statement-breakpoint
CREATE TABLE "inventory"."job_tasks" (
	"job_task_id" text PRIMARY KEY NOT NULL,
	"job_id" text NOT NULL,
	"domain_id" text NOT NULL,
	"workspace_id" text NOT NULL,
	"collector_id" text NOT NULL,
	"service_account_id" text NOT NULL,
	"secret_id" text DEFAULT '' NOT NULL,
	"status" text NOT NULL,
	"progress" integer DEFAULT 0 NOT NULL,
	"created_count" integer DEFAULT 0 NOT NULL,
	"updated_count" integer DEFAULT 0 NOT NULL,
	"deleted_count" integer DEFAULT 0 NOT NULL,
	"error_count" integer DEFAULT 0 NOT NULL,
	"disconnected_count" integer DEFAULT 0 NOT NULL,
	"errors" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "inventory"."jobs" (
	"job_id" text PRIMARY KEY NOT NULL,
	"domain_id" text NOT NULL,
	"workspace_id" text NOT NULL,
	"collector_id" text NOT NULL,
	"name" text NOT NULL,
	"status" text NOT NULL,
	"service_account_ids" jsonb NOT NULL,
	"options" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"total_task_count" integer NOT NULL,
	"succeeded_task_count" integer DEFAULT 0 NOT NULL,
	"failed_task_count" integer DEFAULT 0 NOT NULL,
	"created_count" integer DEFAULT 0 NOT NULL,
	"updated_count" integer DEFAULT 0 NOT NULL,
	"deleted_count" integer DEFAULT 0 NOT NULL,
	"error_count" integer DEFAULT 0 NOT NULL,
	"progress" integer DEFAULT 0 NOT NULL,
	"timeout_at" timestamp with time zone NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "inventory"."outbox" (
	"id" uuid PRIMARY KEY NOT NULL,
	"sequence" bigint GENERATED ALWAYS AS IDENTITY (sequence name "inventory"."outbox_sequence_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"subject" text NOT NULL,
	"payload" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"published_at" timestamp with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text
);
--> statement-breakpoint
CREATE TABLE "inventory"."processed_events" (
	"consumer" text NOT NULL,
	"event_id" uuid NOT NULL,
	"processed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "processed_events_consumer_event_id_pk" PRIMARY KEY("consumer","event_id")
);
--> statement-breakpoint
CREATE INDEX "collectors_domain_created_idx" ON "inventory"."collectors" USING btree ("domain_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "job_tasks_job_account_idx" ON "inventory"."job_tasks" USING btree ("job_id","service_account_id");--> statement-breakpoint
CREATE INDEX "job_tasks_domain_created_idx" ON "inventory"."job_tasks" USING btree ("domain_id","created_at");--> statement-breakpoint
CREATE INDEX "job_tasks_collector_account_idx" ON "inventory"."job_tasks" USING btree ("domain_id","collector_id","service_account_id","finished_at");--> statement-breakpoint
CREATE UNIQUE INDEX "jobs_one_running_per_collector_idx" ON "inventory"."jobs" USING btree ("domain_id","collector_id") WHERE status in ('CREATED', 'IN_PROGRESS');--> statement-breakpoint
CREATE INDEX "jobs_running_timeout_idx" ON "inventory"."jobs" USING btree ("timeout_at") WHERE status in ('CREATED', 'IN_PROGRESS');--> statement-breakpoint
CREATE INDEX "jobs_domain_created_idx" ON "inventory"."jobs" USING btree ("domain_id","created_at");--> statement-breakpoint
CREATE INDEX "outbox_unpublished_idx" ON "inventory"."outbox" USING btree ("sequence") WHERE published_at is null;--> statement-breakpoint
CREATE INDEX "outbox_published_at_idx" ON "inventory"."outbox" USING btree ("published_at");