CREATE TABLE "orchestration"."recurrent_requests" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"name" text NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"schedule_type" text NOT NULL,
	"interval_seconds" integer,
	"cron_expression" text,
	"timezone" text DEFAULT 'UTC' NOT NULL,
	"target" jsonb NOT NULL,
	"sealed_credentials" text,
	"next_run_at" timestamp with time zone,
	"last_run_at" timestamp with time zone,
	"last_instance_id" uuid,
	"run_count" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "recurrent_requests_due_idx" ON "orchestration"."recurrent_requests" USING btree ("next_run_at") WHERE status = 'active' and next_run_at is not null;--> statement-breakpoint
CREATE INDEX "recurrent_requests_tenant_idx" ON "orchestration"."recurrent_requests" USING btree ("tenant_id","created_at");
