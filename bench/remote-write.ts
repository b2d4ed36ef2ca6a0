// Prometheus remote write (POST /api/v1/write: snappy-compressed protobuf WriteRequests of 2,000
// samples, Prometheus's default max_samples_per_send, from 4 concurrent "shards" over HTTP/1.1)
// against the bulk MetricService.Ingest stream (10,000 samples a message over gRPC) of the same
// samples, both into one monitoring service running as its own process, in the same run.
import type { MessageInitShape } from "@bufbuild/protobuf";
import { BinaryWriter } from "@bufbuild/protobuf/wire";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import postgres from "postgres";
import snappy from "snappyjs";
import { MetricService, type MetricServiceIngestRequestSchema } from "@cloudforet/proto/cloudforet/monitoring/v1/metric_pb";
import { isQuick, report } from "./support/report";
import { startServiceProcess } from "./support/service-process";

const quick = isQuick();
const total = quick ? 40_000 : 400_000;
const perWrite = 2_000;
const shards = 4;
const perMessage = 10_000;
const seriesCount = 1_000;
const names = ["node_cpu_seconds_total", "node_memory_active_bytes", "node_disk_reads_completed_total", "node_network_receive_bytes_total"];

interface Series {
  labels: [string, string][];
  resourceId: string;
  name: string;
  dimensions: Record<string, string>;
}
const series: Series[] = Array.from({ length: seriesCount }, (_, i) => {
  const instance = `node-${String(i % 250).padStart(3, "0")}:9100`;
  const name = names[Math.floor(i / 250) % names.length];
  const dimensions = { instance, job: "node", cluster: `cluster-${i % 8}` };
  return { labels: [["__name__", name], ...Object.entries(dimensions)], resourceId: instance, name, dimensions };
});
// Scrapes 15 s apart ending a minute ago: each scrape is one sample of every series.
const scrapes = Math.ceil(total / seriesCount);
const firstScrape = Date.now() - 60_000 - scrapes * 15_000;
const sampleAt = (i: number) => ({ series: series[i % seriesCount], value: ((i * 7919) % 10_000) / 100, at: firstScrape + Math.floor(i / seriesCount) * 15_000 });

/** One WriteRequest of samples [from, to): one TimeSeries per sample, as Prometheus's shards send them. */
function writeBody(from: number, to: number): Uint8Array {
  const w = new BinaryWriter();
  for (let i = from; i < to; i++) {
    const { series: s, value, at } = sampleAt(i);
    w.tag(1, 2).fork();
    for (const [name, labelValue] of s.labels) w.tag(1, 2).fork().tag(1, 2).string(name).tag(2, 2).string(labelValue).join();
    w.tag(2, 2).fork().tag(1, 1).double(value).tag(2, 0).int64(at).join();
    w.join();
  }
  return snappy.compress(w.finish());
}

const service = await startServiceProcess("monitoring");
const sql = postgres(service.databaseUrl, { max: 2, onnotice: () => {} });
try {
  const bodies: Uint8Array[] = [];
  for (let from = 0; from < total; from += perWrite) bodies.push(writeBody(from, Math.min(total, from + perWrite)));
  const writeUrl = `${service.url}/api/v1/write`;
  const headers = {
    authorization: `Bearer ${service.token}`,
    "content-encoding": "snappy",
    "content-type": "application/x-protobuf",
    "x-prometheus-remote-write-version": "0.1.0",
  };
  const post = async (body: Uint8Array) => {
    const response = await fetch(writeUrl, { method: "POST", body, headers });
    if (response.status !== 204) throw new Error(`remote write answered ${response.status}: ${await response.text()}`);
  };
  const writeAll = async (list: Uint8Array[]) => {
    let next = 0;
    await Promise.all(Array.from({ length: shards }, async () => {
      while (next < list.length) await post(list[next++]);
    }));
  };
  const client = createClient(
    MetricService,
    createGrpcTransport({ baseUrl: service.url, interceptors: [(next) => (req) => (req.header.set("authorization", `Bearer ${service.token}`), next(req))] }),
  );
  async function* messages(from: number, to: number): AsyncIterable<MessageInitShape<typeof MetricServiceIngestRequestSchema>> {
    for (let start = from; start < to; start += perMessage) {
      const samples = [];
      for (let i = start; i < Math.min(to, start + perMessage); i++) {
        const { series: s, value, at } = sampleAt(i);
        samples.push({ resourceId: s.resourceId, metricName: s.name, value, timestamp: timestampFromMs(at), dimensions: s.dimensions });
      }
      yield { samples };
    }
  }
  const stored = async () => (await sql`select count(*)::int as count from monitoring.metrics`)[0].count as number;

  // Warm-up of both paths (connections, token checks, V8 compiling decoders), not timed, then emptied.
  await writeAll([writeBody(0, perWrite)]);
  await client.ingest(messages(0, perMessage));
  await sql`truncate monitoring.metrics`;
  await sql`truncate monitoring.ingest_keys`;

  const oursStarted = performance.now();
  await writeAll(bodies);
  const oursSeconds = (performance.now() - oursStarted) / 1000;
  if ((await stored()) !== total) throw new Error(`remote write stored ${await stored()} samples; expected ${total}`);
  // Prometheus's retries: every body again stores nothing new.
  await writeAll(bodies.slice(0, 10));
  if ((await stored()) !== total) throw new Error("a repeated remote write stored samples again");
  await sql`truncate monitoring.metrics`;

  const baselineStarted = performance.now();
  const answer = await client.ingest(messages(0, total));
  const baselineSeconds = (performance.now() - baselineStarted) / 1000;
  if (answer.createdCount !== total || (await stored()) !== total) throw new Error(`Ingest created ${answer.createdCount}; expected ${total}`);

  const ours = total / oursSeconds;
  const baseline = total / baselineSeconds;
  report({
    name: "remote-write",
    quick,
    rows: [
      { case: `ours: POST /api/v1/write (${perWrite}/request, ${shards} shards)`, value: ours, unit: "samples/s", samples: total, seconds: oursSeconds },
      { case: `baseline: MetricService.Ingest (gRPC stream, ${perMessage}/message)`, value: baseline, unit: "samples/s", samples: total, seconds: baselineSeconds },
    ],
    ratio: ours / baseline,
    ratioMeaning: "remote-write samples/s ÷ bulk Ingest samples/s; higher is better",
  });
} finally {
  await sql.end();
  await service.stop();
}
