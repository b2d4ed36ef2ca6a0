import { doublePrecision, pgSchema, text, timestamp } from "drizzle-orm/pg-core";
import type { TestSchema } from "@cloudforet/testing";
import { col, defineQueryFields } from "../field-map";

export function metricTable(schema: string) {
  return pgSchema(schema).table("metric", {
    metricId: text("metric_id").primaryKey(),
    resourceId: text("resource_id").notNull(),
    metricName: text("metric_name").notNull(),
    value: doublePrecision("value").notNull(),
    unit: text("unit").notNull(),
    timestamp: timestamp("timestamp", { withTimezone: true }).notNull(),
  });
}

export type MetricTable = ReturnType<typeof metricTable>;

export function metricFields(table: MetricTable) {
  return defineQueryFields(
    {
      metric_id: col(table.metricId),
      resource_id: col(table.resourceId),
      metric_name: col(table.metricName),
      value: col(table.value),
      unit: col(table.unit),
      timestamp: col(table.timestamp),
    },
    { defaultSort: [{ key: "timestamp" }, { key: "metric_name" }, { key: "metric_id" }] },
  );
}

/** The four rows seed 000's "Query Metrics" shows. */
export const seedMetricRows = [
  { metricId: "metric-xxxxxxxx", metricName: "cpu.utilization", value: 42.1, timestamp: "2024-01-15T10:00:00Z" },
  { metricId: "metric-yyyyyyyy", metricName: "cpu.utilization", value: 45.2, timestamp: "2024-01-15T10:30:00Z" },
  { metricId: "metric-zzzzzzzz", metricName: "cpu.utilization", value: 48.7, timestamp: "2024-01-15T11:00:00Z" },
  { metricId: "metric-wwwwwwww", metricName: "memory.utilization", value: 60.0, timestamp: "2024-01-15T10:00:00Z" },
];

/**
 * 48 rows inside the seed's window for vm-abc123def456 (24 cpu, 24 memory, including both
 * inclusive bounds) plus rows the query must leave out: outside the window, another
 * resource, another metric.
 */
function metricRows(): MetricTable["$inferInsert"][] {
  const resource = "vm-abc123def456";
  const rows: MetricTable["$inferInsert"][] = seedMetricRows.map((row) => ({
    ...row,
    resourceId: resource,
    unit: "percent",
    timestamp: new Date(row.timestamp),
  }));
  const at = (hour: number) => new Date(Date.UTC(2024, 0, 15, hour));
  for (const hour of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21]) {
    rows.push({ metricId: `cpu-${hour}`, resourceId: resource, metricName: "cpu.utilization", value: 30 + hour, unit: "percent", timestamp: at(hour) });
  }
  rows.push({ metricId: "cpu-last", resourceId: resource, metricName: "cpu.utilization", value: 31, unit: "percent", timestamp: new Date("2024-01-15T23:59:59Z") });
  for (let hour = 0; hour < 24; hour++) {
    if (hour === 10) continue;
    rows.push({ metricId: `mem-${hour}`, resourceId: resource, metricName: "memory.utilization", value: 50 + hour, unit: "percent", timestamp: at(hour) });
  }
  rows.push({ metricId: "mem-late", resourceId: resource, metricName: "memory.utilization", value: 1, unit: "percent", timestamp: new Date("2024-01-16T00:00:00Z") });
  rows.push({ metricId: "mem-early", resourceId: resource, metricName: "memory.utilization", value: 1, unit: "percent", timestamp: new Date("2024-01-14T23:59:59Z") });
  rows.push({ metricId: "other-vm", resourceId: "vm-other", metricName: "cpu.utilization", value: 1, unit: "percent", timestamp: at(10) });
  rows.push({ metricId: "disk", resourceId: resource, metricName: "disk.read_iops", value: 1, unit: "iops", timestamp: at(10) });
  return rows;
}

export async function createMetrics(test: TestSchema): Promise<MetricTable> {
  await test.sql.unsafe(`CREATE TABLE "${test.schema}".metric (
    metric_id text PRIMARY KEY,
    resource_id text NOT NULL,
    metric_name text NOT NULL,
    value double precision NOT NULL,
    unit text NOT NULL,
    timestamp timestamptz NOT NULL
  )`);
  const table = metricTable(test.schema);
  await test.db.insert(table).values(metricRows());
  return table;
}
