ALTER TABLE "orchestration"."worker_tasks" ADD COLUMN "claim_epoch" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "worker_tasks_claimed_heartbeat_idx" ON "orchestration"."worker_tasks" USING btree ("heartbeat_at") WHERE state = 'claimed';
