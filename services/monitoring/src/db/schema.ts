import { doublePrecision, index, jsonb, pgSchema, text, timestamp } from "drizzle-orm/pg-core";
import { outboxTable } from "@cloudforet/events";

export const monitoringSchema = pgSchema("monitoring");

/** Events written in the same transaction as the change, relayed to NATS (SPEC §9). */
export const outbox = outboxTable(monitoringSchema);

/**
 * Samples. The table is partitioned by range of `timestamp`, one partition per UTC day
 * (`metrics_pYYYYMMDD`, created on first write to the day), so retention drops whole partitions
 * instead of deleting rows. drizzle-kit cannot declare partitioning: 0000_init.sql adds
 * `PARTITION BY RANGE ("timestamp")` by hand. A partitioned table's keys must include the partition
 * column, so there is no primary key on metric_id (ids are random UUIDs, unique by construction).
 */
export const metrics = monitoringSchema.table(
  "metrics",
  {
    metricId: text("metric_id").notNull(),
    domainId: text("domain_id").notNull(),
    resourceId: text("resource_id").notNull(),
    metricName: text("metric_name").notNull(),
    value: doublePrecision("value").notNull(),
    unit: text("unit").notNull(),
    timestamp: timestamp("timestamp", { withTimezone: true }).notNull(),
    dimensions: jsonb("dimensions").$type<Record<string, string>>().notNull().default({}),
  },
  (t) => [index("metrics_series_idx").on(t.domainId, t.resourceId, t.metricName, t.timestamp)],
);

export type MetricRow = typeof metrics.$inferSelect;
