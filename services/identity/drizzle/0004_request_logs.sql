CREATE TABLE "identity"."request_logging_switches" (
	"domain_id" text NOT NULL,
	"caller_type" text NOT NULL,
	"caller_id" text NOT NULL,
	"enabled" boolean NOT NULL,
	"mode" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "request_logging_switches_domain_id_caller_type_caller_id_pk" PRIMARY KEY("domain_id","caller_type","caller_id")
);
--> statement-breakpoint
CREATE TABLE "identity"."request_logs" (
	"request_log_id" text PRIMARY KEY NOT NULL,
	"domain_id" text NOT NULL,
	"user_id" text NOT NULL,
	"api_key_id" text DEFAULT '' NOT NULL,
	"request_id" text NOT NULL,
	"service" text NOT NULL,
	"path" text NOT NULL,
	"status" integer NOT NULL,
	"code" text NOT NULL,
	"error_type" text DEFAULT '' NOT NULL,
	"error_source" text DEFAULT '' NOT NULL,
	"error_message" text DEFAULT '' NOT NULL,
	"duration_ms" integer NOT NULL,
	"workspace_id" text DEFAULT '' NOT NULL,
	"mode" text NOT NULL,
	"truncated" boolean DEFAULT false NOT NULL,
	"request_body" jsonb,
	"response_body" jsonb,
	"event_timestamp" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "request_logs_caller_time_idx" ON "identity"."request_logs" USING btree ("domain_id","user_id","event_timestamp");
--> statement-breakpoint
CREATE INDEX "request_logs_time_idx" ON "identity"."request_logs" USING btree ("event_timestamp");
