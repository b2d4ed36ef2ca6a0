CREATE SCHEMA "notification";
--> statement-breakpoint
CREATE TABLE "notification"."channels" (
	"channel_id" text PRIMARY KEY NOT NULL,
	"domain_id" text NOT NULL,
	"workspace_id" text NOT NULL,
	"name" text NOT NULL,
	"channel_type" text NOT NULL,
	"options" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"secret_id" text DEFAULT '' NOT NULL,
	"sealed_credentials" text,
	"credentials_fetched_at" timestamp with time zone,
	"tags" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "notification"."deliveries" (
	"sequence" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "notification"."deliveries_sequence_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"notification_id" text NOT NULL,
	"channel" text NOT NULL,
	"status" text NOT NULL,
	"attempt" integer NOT NULL,
	"error" text DEFAULT '' NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "notification"."delivery_queue" (
	"queue_id" uuid PRIMARY KEY NOT NULL,
	"notification_id" text NOT NULL,
	"domain_id" text NOT NULL,
	"channel_id" text NOT NULL,
	"endpoint_key" text NOT NULL,
	"state" text DEFAULT 'PENDING' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"leased_until" timestamp with time zone,
	"last_error" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "notification"."notifications" (
	"notification_id" text PRIMARY KEY NOT NULL,
	"domain_id" text NOT NULL,
	"workspace_id" text NOT NULL,
	"title" text NOT NULL,
	"message" text NOT NULL,
	"severity" text NOT NULL,
	"notification_type" text NOT NULL,
	"tags" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"channels" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"recipients" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"is_read" boolean DEFAULT false NOT NULL,
	"read_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "notification"."outbox" (
	"id" uuid PRIMARY KEY NOT NULL,
	"sequence" bigint GENERATED ALWAYS AS IDENTITY (sequence name "notification"."outbox_sequence_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"subject" text NOT NULL,
	"payload" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"published_at" timestamp with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text
);
--> statement-breakpoint
CREATE TABLE "notification"."processed_events" (
	"consumer" text NOT NULL,
	"event_id" uuid NOT NULL,
	"processed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "processed_events_consumer_event_id_pk" PRIMARY KEY("consumer","event_id")
);
--> statement-breakpoint
CREATE UNIQUE INDEX "channels_domain_workspace_name_idx" ON "notification"."channels" USING btree ("domain_id","workspace_id","name");--> statement-breakpoint
CREATE INDEX "deliveries_notification_idx" ON "notification"."deliveries" USING btree ("notification_id","sequence");--> statement-breakpoint
CREATE INDEX "delivery_queue_due_idx" ON "notification"."delivery_queue" USING btree ("next_attempt_at") WHERE state = 'PENDING';--> statement-breakpoint
CREATE UNIQUE INDEX "delivery_queue_notification_channel_idx" ON "notification"."delivery_queue" USING btree ("notification_id","channel_id");--> statement-breakpoint
CREATE INDEX "notifications_domain_created_idx" ON "notification"."notifications" USING btree ("domain_id","created_at");--> statement-breakpoint
CREATE INDEX "outbox_unpublished_idx" ON "notification"."outbox" USING btree ("sequence") WHERE published_at is null;--> statement-breakpoint
CREATE INDEX "outbox_published_at_idx" ON "notification"."outbox" USING btree ("published_at");