CREATE SCHEMA "cost";
--> statement-breakpoint
CREATE TABLE "cost"."cost_batches" (
	"job_id" text PRIMARY KEY NOT NULL,
	"domain_id" text NOT NULL,
	"idempotency_key" text,
	"response" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "cost"."costs" (
	"cost_id" text PRIMARY KEY NOT NULL,
	"domain_id" text NOT NULL,
	"workspace_id" text NOT NULL,
	"data_source_id" text NOT NULL,
	"date" text NOT NULL,
	"cost" numeric(20, 6) NOT NULL,
	"currency" text NOT NULL,
	"resource_id" text NOT NULL,
	"resource_type" text NOT NULL,
	"region" text NOT NULL,
	"tags" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"job_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "cost"."data_sources" (
	"domain_id" text NOT NULL,
	"data_source_id" text NOT NULL,
	"workspace_id" text NOT NULL,
	"name" text NOT NULL,
	"provider" text NOT NULL,
	"tags" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "data_sources_domain_id_data_source_id_pk" PRIMARY KEY("domain_id","data_source_id")
);
--> statement-breakpoint
CREATE TABLE "cost"."outbox" (
	"id" uuid PRIMARY KEY NOT NULL,
	"sequence" bigint GENERATED ALWAYS AS IDENTITY (sequence name "cost"."outbox_sequence_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"subject" text NOT NULL,
	"payload" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"published_at" timestamp with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text
);
--> statement-breakpoint
CREATE UNIQUE INDEX "cost_batches_domain_key_idx" ON "cost"."cost_batches" USING btree ("domain_id","idempotency_key");--> statement-breakpoint
CREATE INDEX "costs_domain_date_idx" ON "cost"."costs" USING btree ("domain_id","date");--> statement-breakpoint
CREATE INDEX "costs_domain_data_source_idx" ON "cost"."costs" USING btree ("domain_id","data_source_id");--> statement-breakpoint
CREATE INDEX "outbox_unpublished_idx" ON "cost"."outbox" USING btree ("sequence") WHERE published_at is null;--> statement-breakpoint
CREATE INDEX "outbox_published_at_idx" ON "cost"."outbox" USING btree ("published_at");