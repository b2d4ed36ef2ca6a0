import { fromJson, toJson } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, type Client } from "@connectrpc/connect";
import { decodeError } from "@cloudforet/errors";
import { monitoringModule } from "@cloudforet/monitoring";
import {
  MetricSchema,
  MetricService,
  MetricServicePushBatchRequestSchema,
  MetricServicePushBatchResponseSchema,
  MetricServicePushRequestSchema,
  MetricServicePushResponseSchema,
  MetricServiceQueryRequestSchema,
  MetricServiceQueryResponseSchema,
} from "@cloudforet/proto/cloudforet/monitoring/v1/metric_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPlatform, type Identity, type TestPlatform } from "../support/platform";

let platform: TestPlatform;
let metrics: Client<typeof MetricService>;

beforeAll(async () => {
  // The seed's samples are from 2024-01-15: keep ten years so they are inside the retention window.
  platform = await startTestPlatform({ modules: [monitoringModule], env: { MONITORING_RETENTION_DAYS: "3650" } });
  metrics = platform.client(MetricService);
});

afterAll(async () => {
  await platform?.close();
});

const failure = (promise: Promise<unknown>) => promise.then(() => expect.fail("expected an error"), (err) => decodeError(err));
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const wire = (schema: any, message: unknown) => toJson(schema, message as never, { useProtoFieldName: true, alwaysEmitImplicit: true }) as Record<string, unknown>;
const metricId = /^metric-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe("seed 000 §5: Push Metrics", () => {
  it("answers the single metric request with exactly the seed's fields", async () => {
    const request = {
      resource_id: "vm-abc123def456",
      metric_name: "cpu.utilization",
      value: 45.2,
      unit: "percent",
      timestamp: "2024-01-15T10:30:00Z",
      dimensions: { cluster: "cluster-prod-01", environment: "production" },
    };
    const response = wire(MetricServicePushResponseSchema, await metrics.push(fromJson(MetricServicePushRequestSchema, request)));
    expect(Object.keys(response).sort()).toEqual(["created_at", "metric_id", "metric_name", "resource_id", "value"]);
    expect(response).toMatchObject({ resource_id: "vm-abc123def456", metric_name: "cpu.utilization", value: 45.2 });
    expect(response.metric_id).toMatch(metricId);
    const stored = await metrics.query({ query: { filter: [{ k: "metric_id", v: { kind: { case: "stringValue", value: response.metric_id as string } } }] } });
    expect(stored.results.map((m) => wire(MetricSchema, m))).toEqual([
      { metric_id: response.metric_id, resource_id: "vm-abc123def456", metric_name: "cpu.utilization", value: 45.2, unit: "percent", timestamp: "2024-01-15T10:30:00Z", dimensions: request.dimensions },
    ]);
  });

  it("answers the batch request with created_count 6, failed_count 0 and the resource id", async () => {
    const request = {
      resource_id: "vm-abc123def456",
      metrics: [
        { metric_name: "cpu.utilization", value: 45.2, unit: "percent" },
        { metric_name: "memory.utilization", value: 62.5, unit: "percent" },
        { metric_name: "disk.read_iops", value: 150, unit: "iops" },
        { metric_name: "disk.write_iops", value: 85, unit: "iops" },
        { metric_name: "network.received_throughput", value: 1024000, unit: "bytes_per_sec" },
        { metric_name: "network.sent_throughput", value: 512000, unit: "bytes_per_sec" },
      ],
      timestamp: "2024-01-15T10:30:00Z",
    };
    const response = wire(MetricServicePushBatchResponseSchema, await metrics.pushBatch(fromJson(MetricServicePushBatchRequestSchema, request)));
    expect(response).toEqual({ created_count: 6, failed_count: 0, resource_id: "vm-abc123def456", failures: [] });
    const stored = await metrics.query({ query: { filter: [{ k: "metric_name", v: { kind: { case: "stringValue", value: "network.received_throughput" } } }] } });
    expect(stored.results.map((m) => [m.resourceId, m.value, m.unit, m.timestamp?.seconds])).toEqual([["vm-abc123def456", 1024000, "bytes_per_sec", BigInt(Date.parse("2024-01-15T10:30:00Z") / 1000)]]);
  });
});

describe("seed 000 §5: Query Metrics", () => {
  let domain: Identity;
  let client: Client<typeof MetricService>;

  beforeAll(async () => {
    domain = await platform.createDomainAdmin("domain-query");
    client = platform.client(MetricService, domain);
    const cpu: Record<string, number> = { "10:00": 42.1, "10:30": 45.2, "11:00": 48.7 };
    const memory: Record<string, number> = { "10:00": 60.0 };
    for (let slot = 0; slot < 24; slot++) {
      const hhmm = `${String(Math.floor(slot / 2)).padStart(2, "0")}:${slot % 2 ? "30" : "00"}`;
      const items = [{ metricName: "cpu.utilization", value: cpu[hhmm] ?? 30 + slot, unit: "percent" }];
      if (slot < 23) items.push({ metricName: "memory.utilization", value: memory[hhmm] ?? 55 + slot, unit: "percent" });
      items.push({ metricName: "disk.read_iops", value: 100, unit: "iops" });
      await client.pushBatch({ resourceId: "vm-abc123def456", timestamp: timestampFromDate(new Date(`2024-01-15T${hhmm}:00Z`)), metrics: items });
    }
    // The edges of the seed's `between`: the last second is in, the days around it are out.
    await client.push({ resourceId: "vm-abc123def456", metricName: "memory.utilization", value: 58, unit: "percent", timestamp: timestampFromDate(new Date("2024-01-15T23:59:59Z")) });
    await client.push({ resourceId: "vm-abc123def456", metricName: "memory.utilization", value: 1, unit: "percent", timestamp: timestampFromDate(new Date("2024-01-16T00:00:00Z")) });
    await client.push({ resourceId: "vm-abc123def456", metricName: "cpu.utilization", value: 1, unit: "percent", timestamp: timestampFromDate(new Date("2024-01-14T23:59:59Z")) });
    await client.push({ resourceId: "vm-other", metricName: "cpu.utilization", value: 1, unit: "percent", timestamp: timestampFromDate(new Date("2024-01-15T10:00:00Z")) });
  });

  it("answers the seed's request: eq, in and between, sorted by timestamp, total_count 48", async () => {
    const request = {
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
    const response = wire(MetricServiceQueryResponseSchema, await client.query(fromJson(MetricServiceQueryRequestSchema, request)));
    expect(response.total_count).toBe(48);
    const results = response.results as Record<string, unknown>[];
    expect(results).toHaveLength(48);
    const times = results.map((r) => r.timestamp as string);
    expect(times).toEqual([...times].sort());
    expect(times[0]).toBe("2024-01-15T00:00:00Z");
    expect(times.at(-1)).toBe("2024-01-15T23:59:59Z");
    const seedResults = [
      { resource_id: "vm-abc123def456", metric_name: "cpu.utilization", value: 42.1, unit: "percent", timestamp: "2024-01-15T10:00:00Z" },
      { resource_id: "vm-abc123def456", metric_name: "cpu.utilization", value: 45.2, unit: "percent", timestamp: "2024-01-15T10:30:00Z" },
      { resource_id: "vm-abc123def456", metric_name: "cpu.utilization", value: 48.7, unit: "percent", timestamp: "2024-01-15T11:00:00Z" },
      { resource_id: "vm-abc123def456", metric_name: "memory.utilization", value: 60.0, unit: "percent", timestamp: "2024-01-15T10:00:00Z" },
    ];
    for (const seed of seedResults) expect(results).toContainEqual({ ...seed, metric_id: expect.stringMatching(metricId), dimensions: {} });
    expect(new Set(results.map((r) => r.metric_name))).toEqual(new Set(["cpu.utilization", "memory.utilization"]));
  });

  it("pages, sorts descending and refuses a bad filter naming it", async () => {
    const page = await client.query({
      query: {
        filter: [{ k: "metric_name", v: { kind: { case: "stringValue", value: "cpu.utilization" } } }, { k: "resource_id", v: { kind: { case: "stringValue", value: "vm-abc123def456" } } }],
        sort: { key: "timestamp", desc: true },
        page: { start: 1, limit: 2 },
      },
    });
    expect(page.totalCount).toBe(25);
    expect(page.results.map((m) => new Date(Number(m.timestamp!.seconds) * 1000).toISOString())).toEqual(["2024-01-15T11:00:00.000Z", "2024-01-15T10:30:00.000Z"]);
    expect(await failure(client.query({ query: { filter: [{ k: "timestamp", v: { kind: { case: "stringValue", value: "yesterday" } }, o: "between" }] } }))).toMatchObject({
      code: "ERROR_INVALID_PARAMETER",
      metadata: { parameter: "query.filter[0]" },
    });
  });
});

describe("validation", () => {
  const valid = { resourceId: "vm-1", metricName: "cpu.utilization", value: 1, unit: "percent" };
  const at = (iso: string) => timestampFromDate(new Date(iso));

  it("refuses NaN and ±Inf values", async () => {
    for (const value of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expect(await failure(metrics.push({ ...valid, value }))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", grpcCode: Code.InvalidArgument, metadata: { parameter: "value", value: String(value) } });
    }
    // The JSON spellings protobuf accepts for doubles reach the same check.
    expect(await failure(metrics.push(fromJson(MetricServicePushRequestSchema, { resource_id: "vm-1", metric_name: "cpu", value: "NaN" })))).toMatchObject({ metadata: { parameter: "value" } });
  });

  it("refuses empty and malformed metric names and a missing resource_id", async () => {
    expect(await failure(metrics.push({ ...valid, metricName: "" }))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", message: "Missing required field", metadata: { parameter: "metric_name" } });
    for (const name of ["cpu utilization", "1cpu", "cpu;drop", "ä", "x".repeat(256)]) {
      expect(await failure(metrics.push({ ...valid, metricName: name }))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "metric_name" } });
    }
    expect(await failure(metrics.push({ ...valid, resourceId: "" }))).toMatchObject({ message: "Missing required field", metadata: { parameter: "resource_id" } });
    expect(await failure(metrics.push({ ...valid, dimensions: { "bad key": "x" } }))).toMatchObject({ metadata: { parameter: "dimensions" } });
  });

  it("refuses timestamps outside the retention window, in the future, or not instants at all", async () => {
    expect(await failure(metrics.push({ ...valid, timestamp: at("2000-01-01T00:00:00Z") }))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "timestamp", value: "2000-01-01T00:00:00.000Z" } });
    expect(await failure(metrics.push({ ...valid, timestamp: at("9999-12-31T00:00:00Z") }))).toMatchObject({ metadata: { parameter: "timestamp" } });
    expect(await failure(metrics.push({ ...valid, timestamp: timestampFromDate(new Date(Date.now() + 10 * 60_000)) }))).toMatchObject({ message: "timestamp is more than 5 minutes in the future" });
    expect(await failure(metrics.push({ ...valid, timestamp: { seconds: 1n, nanos: -5 } as never }))).toMatchObject({ metadata: { parameter: "timestamp" } });
    expect(await failure(metrics.push({ ...valid, timestamp: { seconds: 10n ** 15n, nanos: 0 } as never }))).toMatchObject({ metadata: { parameter: "timestamp" } });
    const ok = await metrics.push({ ...valid, timestamp: timestampFromDate(new Date(Date.now() + 60_000)) });
    expect(ok.metricId).toMatch(metricId);
  });

  it("refuses an unparseable timestamp on the wire with 400 INVALID_ARGUMENT", async () => {
    const response = await fetch(`${platform.url("monitoring")}/cloudforet.monitoring.v1.MetricService/Push`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${platform.admin.token}` },
      body: JSON.stringify({ resource_id: "vm-1", metric_name: "cpu", value: 1, timestamp: "15/01/2024 10:30" }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: "invalid_argument" });
  });

  it("refuses text Postgres cannot store (NUL, lone surrogates) arriving as JSON with 400, never 500", async () => {
    for (const body of [
      { resource_id: "vm\u0000", metric_name: "cpu", value: 1 },
      { resource_id: "vm-1", metric_name: "cpu", value: 1, unit: "\ud800" },
      { resource_id: "vm-1", metric_name: "cpu", value: 1, dimensions: { cluster: "\udc00" } },
    ]) {
      const response = await fetch(`${platform.url("monitoring")}/cloudforet.monitoring.v1.MetricService/Push`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${platform.admin.token}` },
        body: JSON.stringify(body).replace(/\\\\u/g, "\\u"),
      });
      expect(response.status).toBe(400);
    }
  });

  it("PushBatch stores the good items and reports each bad one", async () => {
    const response = await metrics.pushBatch({
      resourceId: "vm-batch",
      metrics: [
        { metricName: "cpu.utilization", value: 1 },
        { metricName: "bad name", value: 1 },
        { metricName: "mem", value: Number.NaN },
        { metricName: "disk", value: 2 },
      ],
    });
    expect(wire(MetricServicePushBatchResponseSchema, response)).toEqual({
      created_count: 2,
      failed_count: 2,
      resource_id: "vm-batch",
      failures: [
        { index: 1, parameter: "metric_name", message: expect.stringContaining("metric_name must be") },
        { index: 2, parameter: "value", message: "value must be a finite number" },
      ],
    });
    const old = await metrics.pushBatch({ resourceId: "vm-batch", timestamp: at("2001-01-01T00:00:00Z"), metrics: [{ metricName: "cpu", value: 1 }] });
    expect(old).toMatchObject({ createdCount: 0, failedCount: 1, failures: [{ index: 0, parameter: "timestamp" }] });
    expect(await failure(metrics.pushBatch({ metrics: [{ metricName: "cpu", value: 1 }] }))).toMatchObject({ message: "Missing required field", metadata: { parameter: "resource_id" } });
    expect(await failure(metrics.pushBatch({ resourceId: "vm-batch" }))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "metrics" } });
    const tooMany = Array.from({ length: 10_001 }, () => ({ metricName: "cpu", value: 1 }));
    expect(await failure(metrics.pushBatch({ resourceId: "vm-batch", metrics: tooMany }))).toMatchObject({ code: "ERROR_PAYLOAD_TOO_LARGE" });
  });
});
