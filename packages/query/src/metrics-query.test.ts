import { createTestSchema, type TestSchema } from "@cloudforet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { QueryFields } from "./field-map";
import { listWith } from "./list-with";
import { createMetrics, metricFields, seedMetricRows, type MetricTable } from "./test-support/metric-fixture";

let test: TestSchema;
let table: MetricTable;
let fields: QueryFields;

beforeAll(async () => {
  test = await createTestSchema("query_metrics");
  table = await createMetrics(test);
  fields = metricFields(table);
});

afterAll(async () => {
  await test?.drop();
});

/** Seed 000, "Query Metrics", verbatim. */
const seedRequest = {
  query: {
    filter: [
      { k: "resource_id", v: "vm-abc123def456", o: "eq" },
      { k: "metric_name", v: ["cpu.utilization", "memory.utilization"], o: "in" },
      { k: "timestamp", v: ["2024-01-15T00:00:00Z", "2024-01-15T23:59:59Z"], o: "between" },
    ],
    sort: { key: "timestamp", desc: false },
    page: { start: 0, limit: 1000 },
  },
};

describe("listWith: seed 000 Query Metrics", () => {
  it("answers the seed request: in + inclusive between on a timestamp, sorted, total_count 48", async () => {
    const response = await listWith(test.db, table, fields, seedRequest.query);
    expect(response.total_count).toBe(48);
    const rows = response.results.map((row): Record<string, unknown> => ({ ...row, timestamp: (row.timestamp as Date).toISOString() }));
    expect(rows).toHaveLength(48);
    const times = rows.map((row) => row.timestamp as string);
    expect(times).toEqual([...times].sort());
    expect(times[0]).toBe("2024-01-15T00:00:00.000Z");
    expect(times.at(-1)).toBe("2024-01-15T23:59:59.000Z");
    for (const seedRow of seedMetricRows) {
      expect(rows).toContainEqual({
        metric_id: seedRow.metricId,
        resource_id: "vm-abc123def456",
        metric_name: seedRow.metricName,
        value: seedRow.value,
        unit: "percent",
        timestamp: new Date(seedRow.timestamp).toISOString(),
      });
    }
    expect(new Set(rows.map((row) => row.metric_name))).toEqual(new Set(["cpu.utilization", "memory.utilization"]));
  });

  it("shows the seed's cpu rows in time order", async () => {
    const response = await listWith(test.db, table, fields, {
      ...seedRequest.query,
      filter: [...seedRequest.query.filter, { k: "timestamp", v: ["2024-01-15T10:00:00Z", "2024-01-15T11:00:00Z"], o: "between" }],
    });
    expect(response.results.map((row) => [row.metric_id, row.value])).toEqual([
      ["metric-xxxxxxxx", 42.1],
      ["metric-wwwwwwww", 60],
      ["metric-yyyyyyyy", 45.2],
      ["metric-zzzzzzzz", 48.7],
      ["mem-11", 61],
    ]);
  });

  it("compares a double column with numbers", async () => {
    const response = await listWith(test.db, table, fields, { filter: [{ k: "value", v: 48.7, o: "gte" }, { k: "metric_name", v: "cpu.utilization" }] });
    expect(response.results.map((row) => row.value)).toEqual([48.7, 49, 50, 51]);
  });
});
