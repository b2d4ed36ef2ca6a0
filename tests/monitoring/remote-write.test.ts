import { BinaryWriter } from "@bufbuild/protobuf/wire";
import type { Client } from "@connectrpc/connect";
import { monitoringModule } from "@cloudforet/monitoring";
import { ApiKeyService } from "@cloudforet/proto/cloudforet/identity/v1/api_key_pb";
import { MetricService } from "@cloudforet/proto/cloudforet/monitoring/v1/metric_pb";
import snappy from "snappyjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPlatform, type TestPlatform } from "../support/platform";

/**
 * Prometheus remote write 1.0 into monitoring: bodies built here from the spec (prompb WriteRequest
 * in protobuf wire format, snappy block compression), posted as Prometheus posts them.
 */
let platform: TestPlatform;
let metrics: Client<typeof MetricService>;
let writeUrl: string;

beforeAll(async () => {
  platform = await startTestPlatform({ modules: [monitoringModule] });
  metrics = platform.client(MetricService);
  writeUrl = `${platform.url("monitoring")}/api/v1/write`;
}, 60_000);

afterAll(async () => {
  await platform?.close();
});

interface Series {
  labels: Record<string, string>;
  /** "stale": Prometheus's staleness marker, the NaN with bits 0x7ff0000000000002 (written as raw little-endian bytes). */
  samples: [value: number | "stale", timestampMs: number][];
}

/** prometheus.WriteRequest { repeated TimeSeries timeseries = 1 } per prompb/remote.proto and types.proto. */
function writeRequest(series: Series[]): Uint8Array {
  const w = new BinaryWriter();
  for (const s of series) {
    w.tag(1, 2).fork();
    for (const [name, value] of Object.entries(s.labels)) w.tag(1, 2).fork().tag(1, 2).string(name).tag(2, 2).string(value).join();
    for (const [value, ts] of s.samples) {
      w.tag(2, 2).fork().tag(1, 1);
      if (value === "stale") w.raw(new Uint8Array([0x02, 0, 0, 0, 0, 0, 0xf0, 0x7f]));
      else w.double(value);
      w.tag(2, 0).int64(ts).join();
    }
    w.join();
  }
  return w.finish();
}

const post = (body: Uint8Array, headers: Record<string, string> = {}) =>
  fetch(writeUrl, {
    method: "POST",
    body,
    headers: {
      authorization: `Bearer ${platform.admin.token}`,
      "content-encoding": "snappy",
      "content-type": "application/x-protobuf",
      "x-prometheus-remote-write-version": "0.1.0",
      ...headers,
    },
  });

const count = async (metricName: string) =>
  (await metrics.query({ query: { filter: [{ k: "metric_name", v: { kind: { case: "stringValue", value: metricName } } }], countOnly: true } })).totalCount;

const now = Math.floor(Date.now() / 1000) * 1000;

describe("POST /api/v1/write", () => {
  const body = snappy.compress(
    writeRequest([
      { labels: { __name__: "node_cpu_seconds_total", instance: "node-1:9100", job: "node", cpu: "0" }, samples: [[12.5, now - 30_000], [13.25, now - 15_000]] },
      { labels: { __name__: "node_cpu_seconds_total", instance: "node-2:9100", job: "node", cpu: "0" }, samples: [[7, now - 15_000]] },
      { labels: { __name__: "up", resource_id: "vm-abc", job: "node" }, samples: [[1, now - 15_000]] },
    ]),
  );

  it("stores every sample as a queryable metric and answers 204", async () => {
    const response = await post(body);
    expect(response.status).toBe(204);
    const stored = await metrics.query({ query: { filter: [{ k: "metric_name", v: { kind: { case: "stringValue", value: "node_cpu_seconds_total" } } }], sort: { key: "value" } } });
    expect(stored.results.map((m) => [m.resourceId, m.value, Number(m.timestamp!.seconds) * 1000, m.dimensions])).toEqual([
      ["node-2:9100", 7, now - 15_000, { instance: "node-2:9100", job: "node", cpu: "0" }],
      ["node-1:9100", 12.5, now - 30_000, { instance: "node-1:9100", job: "node", cpu: "0" }],
      ["node-1:9100", 13.25, now - 15_000, { instance: "node-1:9100", job: "node", cpu: "0" }],
    ]);
    const up = await metrics.query({ query: { filter: [{ k: "metric_name", v: { kind: { case: "stringValue", value: "up" } } }] } });
    expect(up.results.map((m) => [m.resourceId, m.value, m.dimensions])).toEqual([["vm-abc", 1, { job: "node" }]]);
  });

  it("a repeated identical write (Prometheus's retry) stores nothing new", async () => {
    expect((await post(body)).status).toBe(204);
    expect((await post(body)).status).toBe(204);
    expect(await count("node_cpu_seconds_total")).toBe(3);
    expect(await count("up")).toBe(1);
  });

  it("skips staleness markers and takes an API key as the bearer credential", async () => {
    const key = await platform.client(ApiKeyService).create({ name: "prometheus" });
    const request = snappy.compress(writeRequest([{ labels: { __name__: "keyed_metric", instance: "i-1" }, samples: [[2, now - 5_000], ["stale", now - 1_000]] }]));
    expect((await post(request, { authorization: `Bearer ${key.apiKey}` })).status).toBe(401); // no domain/user named
    const ok = await post(request, { authorization: `Bearer ${key.apiKey}`, "x-cloudforet-domain-id": "domain-default", "x-cloudforet-user-id": "admin" });
    expect(ok.status).toBe(204);
    expect(await count("keyed_metric")).toBe(1);
  });

  it("answers 400 to bodies that are not snappy or not a WriteRequest, and stores nothing", async () => {
    const notSnappy = await post(new TextEncoder().encode("hello, this is not snappy at all"));
    expect(notSnappy.status).toBe(400);
    expect(((await notSnappy.json()) as { details: { debug: { metadata: Record<string, string> } }[] }).details[0].debug.metadata.parameter).toBe("body");
    const truncated = writeRequest([{ labels: { __name__: "broken_metric" }, samples: [[1, now]] }]).slice(0, -3);
    expect((await post(snappy.compress(truncated))).status).toBe(400);
    expect((await post(body, { "content-encoding": "gzip" })).status).toBe(400);
    expect(await count("broken_metric")).toBe(0);
  });

  it("answers 400 naming the problem for refused samples, keeping the valid ones", async () => {
    const response = await post(
      snappy.compress(writeRequest([{ labels: { __name__: "mixed_metric", instance: "i-2" }, samples: [[1, now - 2_000], [Number.POSITIVE_INFINITY, now - 1_000], [3, now + 3_600_000]] }])),
    );
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("2 of 3 samples refused");
    expect(await count("mixed_metric")).toBe(1);
  });

  it("refuses a write without credentials with 401 and a GET with 405", async () => {
    expect((await post(body, { authorization: "" })).status).toBe(401);
    expect((await post(body, { authorization: "Bearer not.a.token" })).status).toBe(401);
    expect((await fetch(writeUrl, { headers: { authorization: `Bearer ${platform.admin.token}` } })).status).toBe(405);
  });
});
