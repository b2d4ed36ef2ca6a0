import { timestampFromDate } from "@bufbuild/protobuf/wkt";

/** A Query result: the query language keys rows by field name, trimmed by `only`. */
export function fromListRow(row: Record<string, unknown>) {
  return {
    metricId: row.metric_id as string | undefined,
    resourceId: row.resource_id as string | undefined,
    metricName: row.metric_name as string | undefined,
    value: row.value as number | undefined,
    unit: row.unit as string | undefined,
    timestamp: row.timestamp instanceof Date ? timestampFromDate(row.timestamp) : undefined,
    dimensions: row.dimensions as Record<string, string> | undefined,
  };
}
