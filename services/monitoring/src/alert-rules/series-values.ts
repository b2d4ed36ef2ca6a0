import { sql, type SQL } from "drizzle-orm";
import { queryRows, type DatabaseExecutor } from "@cloudforet/db";
import { metrics, type Aggregation, type AlertRuleRow } from "../db/schema";

/** One series' aggregated value over the rule's window. */
export interface SeriesValue {
  labels: Record<string, string>;
  value: number;
}

const aggregate: Record<Aggregation, SQL> = {
  AVG: sql`avg(${metrics.value})`,
  MIN: sql`min(${metrics.value})`,
  MAX: sql`max(${metrics.value})`,
  SUM: sql`sum(${metrics.value})`,
  COUNT: sql`count(*)::float8`,
  RATE: sql`((array_agg(${metrics.value} order by ${metrics.timestamp} desc))[1] - (array_agg(${metrics.value} order by ${metrics.timestamp}))[1])
            / nullif(extract(epoch from max(${metrics.timestamp}) - min(${metrics.timestamp})), 0)`,
};

/**
 * Reads the rule's series over (now - window, now]: the samples of its metric in its domain (and its
 * workspace, unless the rule is domain-wide), filtered by resource and dimensions, grouped per
 * resource and group_by dimension, aggregated in SQL. Read-only over the metrics table (the metric
 * repository's partitions), bounded by the time index.
 */
export async function seriesValues(db: DatabaseExecutor, rule: AlertRuleRow, now: Date): Promise<SeriesValue[]> {
  const from = new Date(now.getTime() - rule.windowSeconds * 1000);
  const groups = rule.groupBy.map((key, i) => sql`coalesce(${metrics.dimensions} ->> ${key}::text, '') as ${sql.raw(`g${i}`)}`);
  const conditions: SQL[] = [
    sql`${metrics.domainId} = ${rule.domainId}`,
    sql`${metrics.metricName} = ${rule.metricName}`,
    sql`${metrics.timestamp} > ${from.toISOString()}::timestamptz`,
    sql`${metrics.timestamp} <= ${now.toISOString()}::timestamptz`,
  ];
  if (rule.workspaceId) conditions.push(sql`${metrics.workspaceId} = ${rule.workspaceId}`);
  if (rule.resourceIds.length > 0) conditions.push(sql`${metrics.resourceId} in (${sql.join(rule.resourceIds.map((id) => sql`${id}`), sql`, `)})`);
  if (Object.keys(rule.dimensions).length > 0) conditions.push(sql`${metrics.dimensions} @> ${JSON.stringify(rule.dimensions)}::jsonb`);
  const groupColumns = rule.groupBy.map((_, i) => sql.raw(String(i + 2)));
  const rows = await queryRows<Record<string, string | number | null>>(
    db,
    sql`select ${metrics.resourceId} as resource_id, ${sql.join([...groups, sql`${aggregate[rule.aggregation]} as value`], sql`, `)}
        from ${metrics}
        where ${sql.join(conditions, sql` and `)}
        group by ${sql.join([sql.raw("1"), ...groupColumns], sql`, `)}`,
  );
  const values: SeriesValue[] = [];
  for (const row of rows) {
    if (row.value === null) continue; // RATE of a single sample: no rate yet
    const labels: Record<string, string> = { resource_id: String(row.resource_id) };
    rule.groupBy.forEach((key, i) => {
      labels[key] = String(row[`g${i}`] ?? "");
    });
    values.push({ labels, value: Number(row.value) });
  }
  return values;
}

/** The key of a series in its rule: its labels, sorted. */
export function seriesKey(labels: Record<string, string>): string {
  return JSON.stringify(Object.keys(labels).sort().map((k) => [k, labels[k]]));
}
