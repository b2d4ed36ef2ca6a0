CREATE SCHEMA "monitoring";
--> statement-breakpoint
-- Hand-edited after drizzle-kit generate: metrics is partitioned by day (see src/db/schema.ts).
CREATE TABLE "monitoring"."metrics" (
	"metric_id" text NOT NULL,
	"domain_id" text NOT NULL,
	"resource_id" text NOT NULL,
	"metric_name" text NOT NULL,
	"value" double precision NOT NULL,
	"unit" text NOT NULL,
	"timestamp" timestamp with time zone NOT NULL,
	"dimensions" jsonb DEFAULT '{}'::jsonb NOT NULL
) PARTITION BY RANGE ("timestamp");
--> statement-breakpoint
CREATE TABLE "monitoring"."outbox" (
	"id" uuid PRIMARY KEY NOT NULL,
	"sequence" bigint GENERATED ALWAYS AS IDENTITY (sequence name "monitoring"."outbox_sequence_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"subject" text NOT NULL,
	"payload" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"published_at" timestamp with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text
);
--> statement-breakpoint
CREATE INDEX "metrics_series_idx" ON "monitoring"."metrics" USING btree ("domain_id","resource_id","metric_name","timestamp");--> statement-breakpoint
CREATE INDEX "outbox_unpublished_idx" ON "monitoring"."outbox" USING btree ("sequence") WHERE published_at is null;--> statement-breakpoint
CREATE INDEX "outbox_published_at_idx" ON "monitoring"."outbox" USING btree ("published_at");