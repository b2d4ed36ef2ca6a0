ALTER TABLE "inventory"."job_tasks" ADD COLUMN "pull" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "inventory"."job_tasks" ADD COLUMN "lease_owner" text;--> statement-breakpoint
ALTER TABLE "inventory"."job_tasks" ADD COLUMN "lease_expires_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "inventory"."job_tasks" ADD COLUMN "checkpoint" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "inventory"."jobs" ADD COLUMN "sealed_authorization" text;--> statement-breakpoint
CREATE INDEX "job_tasks_claimable_idx" ON "inventory"."job_tasks" USING btree ("lease_expires_at") WHERE pull and status in ('CREATED', 'IN_PROGRESS');