CREATE TABLE "inventory"."plugins" (
	"domain_id" text NOT NULL,
	"plugin_id" text NOT NULL,
	"name" text NOT NULL,
	"kind" text DEFAULT 'COLLECTOR' NOT NULL,
	"routing_mode" text DEFAULT 'WEIGHTED' NOT NULL,
	"tags" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "plugins_domain_id_plugin_id_pk" PRIMARY KEY("domain_id","plugin_id")
);
--> statement-breakpoint
CREATE INDEX "plugins_domain_created_idx" ON "inventory"."plugins" USING btree ("domain_id","created_at");
--> statement-breakpoint
CREATE TABLE "inventory"."plugin_versions" (
	"domain_id" text NOT NULL,
	"plugin_id" text NOT NULL,
	"version" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "plugin_versions_domain_id_plugin_id_version_pk" PRIMARY KEY("domain_id","plugin_id","version")
);
--> statement-breakpoint
CREATE TABLE "inventory"."plugin_endpoints" (
	"domain_id" text NOT NULL,
	"plugin_id" text NOT NULL,
	"version" text NOT NULL,
	"position" integer NOT NULL,
	"url" text NOT NULL,
	"weight" integer DEFAULT 1 NOT NULL,
	"health" text DEFAULT 'UNKNOWN' NOT NULL,
	"last_error" text DEFAULT '' NOT NULL,
	"checked_at" timestamp with time zone,
	CONSTRAINT "plugin_endpoints_domain_id_plugin_id_version_position_pk" PRIMARY KEY("domain_id","plugin_id","version","position")
);
--> statement-breakpoint
CREATE INDEX "plugin_endpoints_checked_idx" ON "inventory"."plugin_endpoints" USING btree ("checked_at");
--> statement-breakpoint
CREATE TABLE "inventory"."plugin_aliases" (
	"domain_id" text NOT NULL,
	"plugin_id" text NOT NULL,
	"name" text NOT NULL,
	"version" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "plugin_aliases_domain_id_plugin_id_name_pk" PRIMARY KEY("domain_id","plugin_id","name")
);
--> statement-breakpoint
CREATE TABLE "inventory"."enrollments" (
	"domain_id" text NOT NULL,
	"enrollment_id" text NOT NULL,
	"workspace_id" text DEFAULT '' NOT NULL,
	"plugin_id" text NOT NULL,
	"version" text DEFAULT '' NOT NULL,
	"resolved_version" text DEFAULT '' NOT NULL,
	"status" text DEFAULT 'PENDING' NOT NULL,
	"reason" text DEFAULT '' NOT NULL,
	"masked_parameters" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"sealed_parameters" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"claimed_until" timestamp with time zone,
	"verified_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "enrollments_domain_id_enrollment_id_pk" PRIMARY KEY("domain_id","enrollment_id")
);
--> statement-breakpoint
CREATE INDEX "enrollments_pending_idx" ON "inventory"."enrollments" USING btree ("created_at") WHERE status = 'PENDING';
--> statement-breakpoint
ALTER TABLE "inventory"."collectors" ADD COLUMN "plugin_id" text DEFAULT '' NOT NULL;
--> statement-breakpoint
ALTER TABLE "inventory"."collectors" ADD COLUMN "plugin_version" text DEFAULT '' NOT NULL;
