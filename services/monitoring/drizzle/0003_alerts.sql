CREATE TABLE "monitoring"."alert_rules" (
	"alert_rule_id" text PRIMARY KEY NOT NULL,
	"domain_id" text NOT NULL,
	"workspace_id" text DEFAULT '' NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"metric_name" text NOT NULL,
	"resource_ids" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"dimensions" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"group_by" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"aggregation" text NOT NULL,
	"window_seconds" integer NOT NULL,
	"comparison" text NOT NULL,
	"threshold" double precision NOT NULL,
	"for_seconds" integer NOT NULL,
	"interval_seconds" integer NOT NULL,
	"severity" text NOT NULL,
	"labels" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"channels" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"escalation_policy_id" text DEFAULT '' NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"next_evaluation_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "alert_rules_due_idx" ON "monitoring"."alert_rules" USING btree ("next_evaluation_at") WHERE "enabled";
--> statement-breakpoint
CREATE INDEX "alert_rules_tenant_idx" ON "monitoring"."alert_rules" USING btree ("domain_id","workspace_id");
--> statement-breakpoint
CREATE TABLE "monitoring"."alert_rule_series" (
	"alert_rule_id" text NOT NULL,
	"series_key" text NOT NULL,
	"labels" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"state" text NOT NULL,
	"value" double precision,
	"pending_since" timestamp with time zone,
	"firing_since" timestamp with time zone,
	"alert_id" text,
	"evaluated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "alert_rule_series_pk" PRIMARY KEY("alert_rule_id","series_key")
);
--> statement-breakpoint
CREATE TABLE "monitoring"."alerts" (
	"alert_id" text PRIMARY KEY NOT NULL,
	"domain_id" text NOT NULL,
	"workspace_id" text DEFAULT '' NOT NULL,
	"fingerprint" text NOT NULL,
	"title" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"state" text NOT NULL,
	"severity" text NOT NULL,
	"source" text NOT NULL,
	"labels" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"annotations" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"alert_rule_id" text DEFAULT '' NOT NULL,
	"resource_id" text DEFAULT '' NOT NULL,
	"value" double precision,
	"starts_at" timestamp with time zone NOT NULL,
	"ends_at" timestamp with time zone,
	"acknowledged_by" text DEFAULT '' NOT NULL,
	"acknowledged_at" timestamp with time zone,
	"assignee" text DEFAULT '' NOT NULL,
	"resolved_by" text DEFAULT '' NOT NULL,
	"comments" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"channels" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"escalation_policy_id" text DEFAULT '' NOT NULL,
	"escalation_step" integer DEFAULT 0 NOT NULL,
	"silenced" boolean DEFAULT false NOT NULL,
	"firing_notified" boolean DEFAULT false NOT NULL,
	"resolved_notified" boolean DEFAULT false NOT NULL,
	"next_notice_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "alerts_open_fingerprint_idx" ON "monitoring"."alerts" USING btree ("domain_id","workspace_id","fingerprint") WHERE "state" <> 'RESOLVED';
--> statement-breakpoint
CREATE INDEX "alerts_notice_due_idx" ON "monitoring"."alerts" USING btree ("next_notice_at") WHERE "next_notice_at" IS NOT NULL;
--> statement-breakpoint
CREATE INDEX "alerts_tenant_idx" ON "monitoring"."alerts" USING btree ("domain_id","workspace_id","created_at");
--> statement-breakpoint
CREATE TABLE "monitoring"."escalation_policies" (
	"escalation_policy_id" text PRIMARY KEY NOT NULL,
	"domain_id" text NOT NULL,
	"workspace_id" text DEFAULT '' NOT NULL,
	"name" text NOT NULL,
	"steps" jsonb NOT NULL,
	"repeat_count" integer DEFAULT 0 NOT NULL,
	"tags" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "escalation_policies_name_idx" ON "monitoring"."escalation_policies" USING btree ("domain_id","workspace_id","name");
--> statement-breakpoint
CREATE TABLE "monitoring"."maintenance_windows" (
	"maintenance_window_id" text PRIMARY KEY NOT NULL,
	"domain_id" text NOT NULL,
	"workspace_id" text DEFAULT '' NOT NULL,
	"name" text NOT NULL,
	"matchers" jsonb NOT NULL,
	"starts_at" timestamp with time zone NOT NULL,
	"ends_at" timestamp with time zone NOT NULL,
	"recurrence" text DEFAULT 'ONCE' NOT NULL,
	"repeat_until" timestamp with time zone,
	"comment" text DEFAULT '' NOT NULL,
	"created_by" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "maintenance_windows_tenant_idx" ON "monitoring"."maintenance_windows" USING btree ("domain_id","workspace_id");
--> statement-breakpoint
CREATE TABLE "monitoring"."alert_webhook_keys" (
	"webhook_key_id" text PRIMARY KEY NOT NULL,
	"domain_id" text NOT NULL,
	"workspace_id" text DEFAULT '' NOT NULL,
	"name" text NOT NULL,
	"key_hash" text NOT NULL,
	"channels" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"escalation_policy_id" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "alert_webhook_keys_hash_idx" ON "monitoring"."alert_webhook_keys" USING btree ("key_hash");
