CREATE TABLE "notification"."endpoint_breakers" (
	"endpoint_key" text PRIMARY KEY NOT NULL,
	"label" text DEFAULT '' NOT NULL,
	"state" text DEFAULT 'closed' NOT NULL,
	"consecutive_failures" integer DEFAULT 0 NOT NULL,
	"opened_at" timestamp with time zone,
	"next_probe_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "notification"."delivery_queue" ADD COLUMN "lease_token" uuid;