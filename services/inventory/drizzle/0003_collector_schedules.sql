ALTER TABLE "inventory"."collectors" ADD COLUMN "next_fire_at" timestamp with time zone;
--> statement-breakpoint
ALTER TABLE "inventory"."collectors" ADD COLUMN "sealed_service_credential" text;
--> statement-breakpoint
CREATE INDEX "collectors_next_fire_idx" ON "inventory"."collectors" USING btree ("next_fire_at") WHERE "next_fire_at" is not null;
--> statement-breakpoint
ALTER TABLE "inventory"."jobs" ADD COLUMN "started_by" text DEFAULT '' NOT NULL;
--> statement-breakpoint
CREATE INDEX "jobs_finished_idx" ON "inventory"."jobs" USING btree ("finished_at") WHERE status not in ('CREATED', 'IN_PROGRESS');
--> statement-breakpoint
CREATE TABLE "inventory"."schedule_fires" (
	"fire_id" text PRIMARY KEY NOT NULL,
	"domain_id" text NOT NULL,
	"workspace_id" text NOT NULL,
	"collector_id" text NOT NULL,
	"scheduled_at" timestamp with time zone NOT NULL,
	"outcome" text NOT NULL,
	"job_id" text DEFAULT '' NOT NULL,
	"reason" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "schedule_fires_once_idx" ON "inventory"."schedule_fires" USING btree ("domain_id","collector_id","scheduled_at");
--> statement-breakpoint
CREATE INDEX "schedule_fires_created_idx" ON "inventory"."schedule_fires" USING btree ("created_at");
