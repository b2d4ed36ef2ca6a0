CREATE SCHEMA "orchestration";
--> statement-breakpoint
CREATE TABLE "orchestration"."block_outputs" (
	"id" uuid PRIMARY KEY NOT NULL,
	"seq" bigint GENERATED ALWAYS AS IDENTITY (sequence name "orchestration"."block_outputs_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"instance_id" uuid NOT NULL,
	"block_id" text NOT NULL,
	"output" jsonb,
	"output_ref" text,
	"output_size" integer NOT NULL,
	"attempt" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "orchestration"."instances" (
	"id" uuid PRIMARY KEY NOT NULL,
	"sequence_id" uuid NOT NULL,
	"tenant_id" text NOT NULL,
	"namespace" text NOT NULL,
	"state" text NOT NULL,
	"next_fire_at" timestamp with time zone,
	"priority" text DEFAULT 'normal' NOT NULL,
	"priority_rank" smallint DEFAULT 1 NOT NULL,
	"timezone" text DEFAULT 'UTC' NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"context" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"execution" jsonb DEFAULT '{"nodes":{},"seq":0}'::jsonb NOT NULL,
	"kv" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"concurrency_key" text,
	"max_concurrency" integer,
	"idempotency_key" text,
	"locked_by" text,
	"lease_expires_at" timestamp with time zone,
	"needs_attention" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "orchestration"."outbox" (
	"id" uuid PRIMARY KEY NOT NULL,
	"sequence" bigint GENERATED ALWAYS AS IDENTITY (sequence name "orchestration"."outbox_sequence_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"subject" text NOT NULL,
	"payload" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"published_at" timestamp with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text
);
--> statement-breakpoint
CREATE TABLE "orchestration"."sequences" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"namespace" text NOT NULL,
	"name" text NOT NULL,
	"version" integer NOT NULL,
	"blocks" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "orchestration"."signals" (
	"id" uuid PRIMARY KEY NOT NULL,
	"seq" bigint GENERATED ALWAYS AS IDENTITY (sequence name "orchestration"."signals_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"instance_id" uuid NOT NULL,
	"signal_type" text NOT NULL,
	"payload" jsonb,
	"processed" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"processed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "orchestration"."trigger_dedupe" (
	"scope" text NOT NULL,
	"scope_key" text NOT NULL,
	"dedupe_key" text NOT NULL,
	"instance_id" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "trigger_dedupe_scope_scope_key_dedupe_key_pk" PRIMARY KEY("scope","scope_key","dedupe_key")
);
--> statement-breakpoint
CREATE TABLE "orchestration"."triggers" (
	"tenant_id" text NOT NULL,
	"slug" text NOT NULL,
	"namespace" text NOT NULL,
	"sequence_id" uuid,
	"sequence_name" text NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"trigger_type" text DEFAULT 'event' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "triggers_tenant_id_slug_pk" PRIMARY KEY("tenant_id","slug")
);
--> statement-breakpoint
CREATE TABLE "orchestration"."worker_tasks" (
	"id" uuid PRIMARY KEY NOT NULL,
	"instance_id" uuid NOT NULL,
	"block_id" text NOT NULL,
	"node_key" text NOT NULL,
	"handler_name" text NOT NULL,
	"params" jsonb NOT NULL,
	"context" jsonb NOT NULL,
	"attempt" integer DEFAULT 0 NOT NULL,
	"timeout_ms" integer DEFAULT 0 NOT NULL,
	"state" text DEFAULT 'pending' NOT NULL,
	"worker_id" text,
	"claimed_at" timestamp with time zone,
	"heartbeat_at" timestamp with time zone,
	"completed_at" timestamp with time zone,
	"output" jsonb,
	"error_message" text,
	"error_retryable" boolean,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "block_outputs_instance_idx" ON "orchestration"."block_outputs" USING btree ("instance_id","created_at","seq");--> statement-breakpoint
CREATE UNIQUE INDEX "instances_idempotency_idx" ON "orchestration"."instances" USING btree ("tenant_id","idempotency_key") WHERE idempotency_key is not null;--> statement-breakpoint
CREATE INDEX "instances_due_idx" ON "orchestration"."instances" USING btree ("priority_rank" DESC NULLS LAST,"next_fire_at") WHERE locked_by is null and state in ('scheduled', 'waiting', 'paused');--> statement-breakpoint
CREATE INDEX "instances_leases_idx" ON "orchestration"."instances" USING btree ("lease_expires_at") WHERE locked_by is not null;--> statement-breakpoint
CREATE INDEX "instances_unheld_running_idx" ON "orchestration"."instances" USING btree ("updated_at") WHERE locked_by is null and state = 'running';--> statement-breakpoint
CREATE INDEX "instances_tenant_created_idx" ON "orchestration"."instances" USING btree ("tenant_id","namespace","created_at");--> statement-breakpoint
CREATE INDEX "instances_sequence_idx" ON "orchestration"."instances" USING btree ("sequence_id");--> statement-breakpoint
CREATE INDEX "instances_failed_idx" ON "orchestration"."instances" USING btree ("tenant_id","updated_at") WHERE state = 'failed';--> statement-breakpoint
CREATE INDEX "outbox_unpublished_idx" ON "orchestration"."outbox" USING btree ("sequence") WHERE published_at is null;--> statement-breakpoint
CREATE INDEX "outbox_published_at_idx" ON "orchestration"."outbox" USING btree ("published_at");--> statement-breakpoint
CREATE UNIQUE INDEX "sequences_name_version_idx" ON "orchestration"."sequences" USING btree ("tenant_id","namespace","name","version");--> statement-breakpoint
CREATE INDEX "signals_pending_idx" ON "orchestration"."signals" USING btree ("instance_id","seq") WHERE not processed;--> statement-breakpoint
CREATE INDEX "trigger_dedupe_created_idx" ON "orchestration"."trigger_dedupe" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "worker_tasks_pending_idx" ON "orchestration"."worker_tasks" USING btree ("handler_name","created_at") WHERE state = 'pending';--> statement-breakpoint
CREATE INDEX "worker_tasks_instance_idx" ON "orchestration"."worker_tasks" USING btree ("instance_id");