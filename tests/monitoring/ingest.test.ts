import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { Client } from "@connectrpc/connect";
import { decodeError } from "@cloudforet/errors";
import { monitoringModule } from "@cloudforet/monitoring";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { MetricService, MetricServiceGetDataRequest_Stat as Stat, type MetricServiceIngestRequestSchema } from "@cloudforet/proto/cloudforet/monitoring/v1/metric_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPlatform, type TestPlatform } from "../support/platform";

let platform: TestPlatform;
let metrics: Client<typeof MetricService>;

beforeAll(async () => {
  platform = await startTestPlatform({ modules: [monitoringModule] });
  metrics = platform.client(MetricService);
});

afterAll(async () => {
  await platform?.close();
});

const failure = (promise: Promise<unknown>) => promise.then(() => expect.fail("expected an error"), (err) => decodeError(err));
type IngestMessage = MessageInitShape<typeof MetricServiceIngestRequestSchema>;

async function* stream(messages: IngestMessage[]): AsyncIterable<IngestMessage> {
  for (const message of messages) yield message;
}

/** 100 resources × 2 metrics × 500 instants, 10 s apart, ending a minute ago: 100,000 samples. */
const RESOURCES = Array.from({ length: 100 }, (_, i) => `vm-bulk-${String(i).padStart(3, "0")}`);
const METRICS = ["cpu.utilization", "memory.utilization"];
const INSTANTS = 500;
const end = Math.floor((Date.now() - 60_000) / 1000) * 1000;
const start = end - (INSTANTS - 1) * 10_000;
const valueOf = (r: number, m: number, t: number) => ((r * 7 + m * 13 + t * 31) % 1000) / 4; // quarters: exact in binary
interface Sample { resourceId: string; metricName: string; value: number; at: number }
const samples: Sample[] = [];
for (let t = 0; t < INSTANTS; t++) {
  for (const [r, resourceId] of RESOURCES.entries()) {
    for (const [m, metricName] of METRICS.entries()) samples.push({ resourceId, metricName, value: valueOf(r, m, t), at: start + t * 10_000 });
  }
}

describe("MetricService.Ingest (bulk, client streaming)", () => {
  it("stores 100,000 samples of 100 resources, all queryable", async () => {
    const messages: IngestMessage[] = [];
    for (let i = 0; i < samples.length; i += 10_000) {
      messages.push({ samples: samples.slice(i, i + 10_000).map((s) => ({ resourceId: s.resourceId, metricName: s.metricName, value: s.value, unit: "percent", timestamp: timestampFromMs(s.at), dimensions: { source: "bulk" } })) });
    }
    const started = performance.now();
    const response = await metrics.ingest(stream(messages));
    const seconds = (performance.now() - started) / 1000;
    expect(response).toMatchObject({ createdCount: 100_000, failedCount: 0, failures: [] });
    expect(seconds).toBeLessThan(60);

    const all = await metrics.query({ query: { filter: [{ k: "dimensions.source", v: { kind: { case: "stringValue", value: "bulk" } } }], countOnly: true } });
    expect(all.totalCount).toBe(100_000);
    const one = await metrics.query({
      query: { filter: [{ k: "resource_id", v: { kind: { case: "stringValue", value: "vm-bulk-042" } } }, { k: "metric_name", v: { kind: { case: "stringValue", value: "memory.utilization" } } }], page: { limit: 1000 } },
    });
    expect(one.totalCount).toBe(INSTANTS);
    expect(one.results.map((m) => [Number(m.timestamp!.seconds) * 1000, m.value])).toEqual(
      samples.filter((s) => s.resourceId === "vm-bulk-042" && s.metricName === "memory.utilization").map((s) => [s.at, s.value]),
    );
  });

  it("GetData buckets equal a naive computation for every statistic", async () => {
    const resourceIds = ["vm-bulk-007", "vm-bulk-099", "vm-without-samples", "vm-bulk-000"];
    const from = start + 25_000; // mid-bucket, so the first bucket is partial
    const to = end - 35_000;
    for (const period of [60, 300, 7]) {
      for (const stat of [Stat.AVG, Stat.MIN, Stat.MAX, Stat.SUM, Stat.COUNT]) {
        const answer = await metrics.getData({ resourceIds, metricName: "cpu.utilization", start: timestampFromMs(from), end: timestampFromMs(to), period, stat });
        expect(answer.series.map((s) => s.resourceId)).toEqual(resourceIds);
        for (const series of answer.series) {
          const expected = naive(samples.filter((s) => s.resourceId === series.resourceId && s.metricName === "cpu.utilization" && s.at >= from && s.at < to), period, stat);
          expect(series.points.map((p) => Number(p.timestamp!.seconds) * 1000)).toEqual(expected.map(([bucket]) => bucket));
          series.points.forEach((point, i) => expect(point.value).toBeCloseTo(expected[i][1], 9));
        }
      }
    }
  });

  it("GetData refuses bad requests naming the field", async () => {
    const base = { resourceIds: ["vm-1"], metricName: "cpu", start: timestampFromMs(start), end: timestampFromMs(end) };
    expect(await failure(metrics.getData({ ...base, resourceIds: [] }))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "resource_ids" } });
    expect(await failure(metrics.getData({ ...base, resourceIds: Array.from({ length: 101 }, (_, i) => `vm-${i}`) }))).toMatchObject({ metadata: { parameter: "resource_ids" } });
    expect(await failure(metrics.getData({ ...base, metricName: "" }))).toMatchObject({ metadata: { parameter: "metric_name" } });
    expect(await failure(metrics.getData({ ...base, end: base.start }))).toMatchObject({ metadata: { parameter: "end" } });
    expect(await failure(metrics.getData({ ...base, start: undefined }))).toMatchObject({ metadata: { parameter: "start" } });
    expect(await failure(metrics.getData({ ...base, period: -5 }))).toMatchObject({ metadata: { parameter: "period" } });
    expect(await failure(metrics.getData({ ...base, start: timestampFromMs(0), period: 1 }))).toMatchObject({ message: expect.stringContaining("10,000 buckets"), metadata: { parameter: "period" } });
    expect(await failure(metrics.getData({ ...base, stat: 9 as Stat }))).toMatchObject({ metadata: { parameter: "stat" } });
  });

  it("counts bad samples across the stream with their global index and keeps the good ones", async () => {
    const response = await metrics.ingest(
      stream([
        { samples: [{ resourceId: "vm-s", metricName: "cpu", value: 1 }, { resourceId: "", metricName: "cpu", value: 1 }] },
        { samples: [{ resourceId: "vm-s", metricName: "cpu", value: Number.POSITIVE_INFINITY }, { resourceId: "vm-s", metricName: "9lives", value: 1 }, { resourceId: "vm-s", metricName: "mem", value: 2 }] },
        { samples: [] },
        { samples: [{ resourceId: "vm-s", metricName: "cpu", value: 3, timestamp: timestampFromMs(Date.UTC(1999, 0, 1)) }] },
      ]),
    );
    expect(response.createdCount).toBe(2);
    expect(response.failedCount).toBe(4);
    expect(response.failures.map((f) => [f.index, f.resourceId, f.metricName, f.parameter])).toEqual([
      [1, "", "cpu", "resource_id"],
      [2, "vm-s", "cpu", "value"],
      [3, "vm-s", "9lives", "metric_name"],
      [5, "vm-s", "cpu", "timestamp"],
    ]);
  });

  it("fails the stream with ERROR_PAYLOAD_TOO_LARGE for a message over 10,000 samples, keeping what was written", async () => {
    const big = { samples: Array.from({ length: 10_001 }, () => ({ resourceId: "vm-big", metricName: "cpu", value: 1 })) };
    const err = await failure(metrics.ingest(stream([{ samples: [{ resourceId: "vm-kept", metricName: "cpu", value: 1 }] }, big])));
    expect(err).toMatchObject({ code: "ERROR_PAYLOAD_TOO_LARGE" });
    const kept = await metrics.query({ query: { filter: [{ k: "resource_id", v: { kind: { case: "stringValue", value: "vm-kept" } } }], countOnly: true } });
    expect(kept.totalCount).toBe(1);
  });
});

/** The buckets of a series computed in memory: [bucket start ms, statistic], ascending. */
function naive(series: Sample[], periodSeconds: number, stat: Stat): [number, number][] {
  const periodMs = periodSeconds * 1000;
  const buckets = new Map<number, number[]>();
  for (const s of series) {
    const bucket = Math.floor(s.at / periodMs) * periodMs;
    buckets.set(bucket, [...(buckets.get(bucket) ?? []), s.value]);
  }
  const compute = (values: number[]) => {
    const sum = values.reduce((a, b) => a + b, 0);
    switch (stat) {
      case Stat.AVG: return sum / values.length;
      case Stat.MIN: return Math.min(...values);
      case Stat.MAX: return Math.max(...values);
      case Stat.SUM: return sum;
      case Stat.COUNT: return values.length;
    }
  };
  return [...buckets.entries()].sort(([a], [b]) => a - b).map(([bucket, values]) => [bucket, compute(values)]);
}
