-- Query of one metric over a time range across resources (domain, metric, time range) was a scan of
-- whole day partitions; on a partitioned table this builds the index on every existing partition.
CREATE INDEX "metrics_metric_time_idx" ON "monitoring"."metrics" USING btree ("domain_id","metric_name","timestamp");