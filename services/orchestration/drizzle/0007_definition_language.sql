ALTER TABLE "orchestration"."worker_tasks" ADD COLUMN IF NOT EXISTS "queue_name" text;
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "worker_tasks_queue_pending_idx" ON "orchestration"."worker_tasks" USING btree ("handler_name","queue_name","created_at") WHERE state = 'pending';
