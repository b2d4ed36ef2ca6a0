CREATE TABLE "cost"."budgets" (
	"budget_id" text PRIMARY KEY NOT NULL,
	"domain_id" text NOT NULL,
	"workspace_id" text NOT NULL,
	"project_id" text DEFAULT '' NOT NULL,
	"data_source_id" text DEFAULT '' NOT NULL,
	"tag_filter" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"name" text NOT NULL,
	"currency" text NOT NULL,
	"time_unit" text NOT NULL,
	"limit_amount" numeric(20, 6) NOT NULL,
	"planned_limits" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"thresholds" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"tags" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "cost"."budget_notices" (
	"budget_id" text NOT NULL,
	"period" text NOT NULL,
	"threshold" text NOT NULL,
	"domain_id" text NOT NULL,
	"usage" numeric(20, 6) NOT NULL,
	"limit_amount" numeric(20, 6) NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "budget_notices_budget_id_period_threshold_pk" PRIMARY KEY("budget_id","period","threshold"),
	CONSTRAINT "budget_notices_budget_fk" FOREIGN KEY ("budget_id") REFERENCES "cost"."budgets"("budget_id") ON DELETE CASCADE
);
--> statement-breakpoint
CREATE INDEX "budgets_domain_idx" ON "cost"."budgets" USING btree ("domain_id","workspace_id");--> statement-breakpoint
CREATE INDEX "costs_domain_job_idx" ON "cost"."costs" USING btree ("domain_id","job_id");
