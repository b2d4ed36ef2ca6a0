DROP INDEX "cost"."costs_domain_date_idx";--> statement-breakpoint
CREATE INDEX "costs_domain_date_covering_idx" ON "cost"."costs" USING btree ("domain_id","date","workspace_id","data_source_id","resource_type","region","currency","resource_id","cost");--> statement-breakpoint
CREATE INDEX "costs_tags_gin_idx" ON "cost"."costs" USING gin ("tags" jsonb_path_ops);