CREATE TABLE "orchestration"."cron_schedules" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"namespace" text NOT NULL,
	"sequence_id" uuid NOT NULL,
	"cron_expr" text NOT NULL,
	"timezone" text DEFAULT 'UTC' NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"next_fire_at" timestamp with time zone,
	"last_triggered_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "cron_schedules_due_idx" ON "orchestration"."cron_schedules" USING btree ("next_fire_at") WHERE enabled and next_fire_at is not null;--> statement-breakpoint
CREATE INDEX "cron_schedules_tenant_idx" ON "orchestration"."cron_schedules" USING btree ("tenant_id","created_at");