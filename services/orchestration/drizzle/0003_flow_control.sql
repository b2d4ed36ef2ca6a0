CREATE TABLE "orchestration"."concurrency_slots" (
	"instance_id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"concurrency_key" text NOT NULL,
	"acquired_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "concurrency_slots_key_idx" ON "orchestration"."concurrency_slots" USING btree ("tenant_id","concurrency_key");--> statement-breakpoint
CREATE TABLE "orchestration"."concurrency_waiters" (
	"instance_id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"concurrency_key" text NOT NULL,
	"max_concurrency" integer NOT NULL,
	"priority_rank" smallint NOT NULL,
	"fire_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "concurrency_waiters_key_idx" ON "orchestration"."concurrency_waiters" USING btree ("tenant_id","concurrency_key","priority_rank" DESC,"fire_at");--> statement-breakpoint
CREATE TABLE "orchestration"."rate_limits" (
	"tenant_id" text NOT NULL,
	"key" text NOT NULL,
	"max_count" integer NOT NULL,
	"window_ms" bigint NOT NULL,
	"window_start" bigint DEFAULT 0 NOT NULL,
	"used" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "rate_limits_tenant_id_key_pk" PRIMARY KEY("tenant_id","key")
);
--> statement-breakpoint
CREATE INDEX "instances_tenant_due_idx" ON "orchestration"."instances" USING btree ("tenant_id","priority_rank" DESC,"next_fire_at") WHERE locked_by is null and state in ('scheduled', 'waiting', 'paused');
