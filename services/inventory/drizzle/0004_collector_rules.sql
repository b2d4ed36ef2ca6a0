CREATE TABLE "inventory"."collector_rules" (
	"domain_id" text NOT NULL,
	"collector_rule_id" text NOT NULL,
	"workspace_id" text DEFAULT '' NOT NULL,
	"collector_id" text DEFAULT '' NOT NULL,
	"name" text DEFAULT '' NOT NULL,
	"rule_order" integer NOT NULL,
	"conditions" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"conditions_policy" text DEFAULT 'ALL' NOT NULL,
	"actions" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"stop_processing" boolean DEFAULT false NOT NULL,
	"tags" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "collector_rules_domain_id_collector_rule_id_pk" PRIMARY KEY("domain_id","collector_rule_id")
);
--> statement-breakpoint
CREATE INDEX "collector_rules_order_idx" ON "inventory"."collector_rules" USING btree ("domain_id","collector_id","rule_order");
