-- An Orch8 tenant_id is a name inside the caller's domain: every tenant-scoped row also carries its domain.
-- Until now the tenant was the domain, so existing rows get domain_id = tenant_id.
ALTER TABLE "orchestration"."sequences" ADD COLUMN "domain_id" text;
--> statement-breakpoint
UPDATE "orchestration"."sequences" SET "domain_id" = "tenant_id";
--> statement-breakpoint
ALTER TABLE "orchestration"."sequences" ALTER COLUMN "domain_id" SET NOT NULL;
--> statement-breakpoint
ALTER TABLE "orchestration"."instances" ADD COLUMN "domain_id" text;
--> statement-breakpoint
UPDATE "orchestration"."instances" SET "domain_id" = "tenant_id";
--> statement-breakpoint
ALTER TABLE "orchestration"."instances" ALTER COLUMN "domain_id" SET NOT NULL;
--> statement-breakpoint
ALTER TABLE "orchestration"."triggers" ADD COLUMN "domain_id" text;
--> statement-breakpoint
UPDATE "orchestration"."triggers" SET "domain_id" = "tenant_id";
--> statement-breakpoint
ALTER TABLE "orchestration"."triggers" ALTER COLUMN "domain_id" SET NOT NULL;
--> statement-breakpoint
ALTER TABLE "orchestration"."cron_schedules" ADD COLUMN "domain_id" text;
--> statement-breakpoint
UPDATE "orchestration"."cron_schedules" SET "domain_id" = "tenant_id";
--> statement-breakpoint
ALTER TABLE "orchestration"."cron_schedules" ALTER COLUMN "domain_id" SET NOT NULL;
--> statement-breakpoint
ALTER TABLE "orchestration"."concurrency_slots" ADD COLUMN "domain_id" text;
--> statement-breakpoint
UPDATE "orchestration"."concurrency_slots" SET "domain_id" = "tenant_id";
--> statement-breakpoint
ALTER TABLE "orchestration"."concurrency_slots" ALTER COLUMN "domain_id" SET NOT NULL;
--> statement-breakpoint
ALTER TABLE "orchestration"."concurrency_waiters" ADD COLUMN "domain_id" text;
--> statement-breakpoint
UPDATE "orchestration"."concurrency_waiters" SET "domain_id" = "tenant_id";
--> statement-breakpoint
ALTER TABLE "orchestration"."concurrency_waiters" ALTER COLUMN "domain_id" SET NOT NULL;
--> statement-breakpoint
ALTER TABLE "orchestration"."rate_limits" ADD COLUMN "domain_id" text;
--> statement-breakpoint
UPDATE "orchestration"."rate_limits" SET "domain_id" = "tenant_id";
--> statement-breakpoint
ALTER TABLE "orchestration"."rate_limits" ALTER COLUMN "domain_id" SET NOT NULL;
--> statement-breakpoint
ALTER TABLE "orchestration"."recurrent_requests" ADD COLUMN "domain_id" text;
--> statement-breakpoint
UPDATE "orchestration"."recurrent_requests" SET "domain_id" = "tenant_id";
--> statement-breakpoint
ALTER TABLE "orchestration"."recurrent_requests" ALTER COLUMN "domain_id" SET NOT NULL;
--> statement-breakpoint
ALTER TABLE "orchestration"."triggers" DROP CONSTRAINT "triggers_tenant_id_slug_pk";
--> statement-breakpoint
ALTER TABLE "orchestration"."triggers" ADD CONSTRAINT "triggers_domain_id_tenant_id_slug_pk" PRIMARY KEY("domain_id","tenant_id","slug");
--> statement-breakpoint
ALTER TABLE "orchestration"."rate_limits" DROP CONSTRAINT "rate_limits_tenant_id_key_pk";
--> statement-breakpoint
ALTER TABLE "orchestration"."rate_limits" ADD CONSTRAINT "rate_limits_domain_id_tenant_id_key_pk" PRIMARY KEY("domain_id","tenant_id","key");
--> statement-breakpoint
DROP INDEX "orchestration"."instances_idempotency_idx";
--> statement-breakpoint
CREATE UNIQUE INDEX "instances_idempotency_idx" ON "orchestration"."instances" USING btree ("domain_id","tenant_id","idempotency_key") WHERE idempotency_key is not null;
--> statement-breakpoint
DROP INDEX "orchestration"."instances_tenant_created_idx";
--> statement-breakpoint
CREATE INDEX "instances_tenant_created_idx" ON "orchestration"."instances" USING btree ("domain_id","tenant_id","namespace","created_at");
--> statement-breakpoint
DROP INDEX "orchestration"."instances_failed_idx";
--> statement-breakpoint
CREATE INDEX "instances_failed_idx" ON "orchestration"."instances" USING btree ("domain_id","tenant_id","updated_at") WHERE state = 'failed';
--> statement-breakpoint
DROP INDEX "orchestration"."instances_tenant_due_idx";
--> statement-breakpoint
CREATE INDEX "instances_tenant_due_idx" ON "orchestration"."instances" USING btree ("domain_id","tenant_id","priority_rank" DESC,"next_fire_at") WHERE locked_by is null and state in ('scheduled', 'waiting', 'paused');
--> statement-breakpoint
DROP INDEX "orchestration"."sequences_name_version_idx";
--> statement-breakpoint
CREATE UNIQUE INDEX "sequences_name_version_idx" ON "orchestration"."sequences" USING btree ("domain_id","tenant_id","namespace","name","version");
--> statement-breakpoint
DROP INDEX "orchestration"."cron_schedules_tenant_idx";
--> statement-breakpoint
CREATE INDEX "cron_schedules_tenant_idx" ON "orchestration"."cron_schedules" USING btree ("domain_id","tenant_id","created_at");
--> statement-breakpoint
DROP INDEX "orchestration"."concurrency_slots_key_idx";
--> statement-breakpoint
CREATE INDEX "concurrency_slots_key_idx" ON "orchestration"."concurrency_slots" USING btree ("domain_id","tenant_id","concurrency_key");
--> statement-breakpoint
DROP INDEX "orchestration"."concurrency_waiters_key_idx";
--> statement-breakpoint
CREATE INDEX "concurrency_waiters_key_idx" ON "orchestration"."concurrency_waiters" USING btree ("domain_id","tenant_id","concurrency_key","priority_rank" DESC,"fire_at");
--> statement-breakpoint
DROP INDEX "orchestration"."recurrent_requests_tenant_idx";
--> statement-breakpoint
CREATE INDEX "recurrent_requests_tenant_idx" ON "orchestration"."recurrent_requests" USING btree ("domain_id","tenant_id","created_at");
--> statement-breakpoint
CREATE TABLE "orchestration"."tenant_grants" (
	"domain_id" text NOT NULL,
	"api_key_id" text NOT NULL,
	"tenant_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "tenant_grants_domain_id_api_key_id_tenant_id_pk" PRIMARY KEY("domain_id","api_key_id","tenant_id")
);
