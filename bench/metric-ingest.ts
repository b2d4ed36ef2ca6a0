// Metric samples/s through MetricService.Ingest (one client stream over gRPC, 10,000 samples a
// message, into a monitoring service running as its own process) against COPY … FROM STDIN of the
// same rows with postgres.js into a table of the same shape and indexes, in the same run.
import { randomUUID } from "node:crypto";
import { finished } from "node:stream/promises";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import postgres from "postgres";
import { MetricService, type MetricServiceIngestRequestSchema } from "@cloudforet/proto/cloudforet/monitoring/v1/metric_pb";
import { isQuick, report } from "./support/report";
import { startServiceProcess } from "./support/service-process";

const quick = isQuick();
const total = quick ? 50_000 : 1_000_000;
const perMessage = 10_000;
const metricNames = ["cpu.utilization", "memory.utilization", "disk.read_iops", "disk.write_iops", "network.received_throughput"];
const resources = 1000;

interface Sample {
  resourceId: string;
  metricName: string;
  value: number;
  unit: string;
  at: number;
  dimensions: Record<string, string>;
}

// Instants 10 s apart ending a minute ago, so every sample is inside the retention window.
const instants = Math.ceil(total / (resources * metricNames.length));
const firstInstant = Date.now() - 60_000 - instants * 10_000;
const samples: Sample[] = Array.from({ length: total }, (_, i) => {
  const metric = i % metricNames.length;
  const resource = Math.floor(i / metricNames.length) % resources;
  const instant = Math.floor(i / (metricNames.length * resources));
  return {
    resourceId: `vm-${String(resource).padStart(4, "0")}`,
    metricName: metricNames[metric],
    value: ((i * 7919) % 10_000) / 100,
    unit: metric < 2 ? "percent" : metric < 4 ? "iops" : "bytes_per_sec",
    at: firstInstant + instant * 10_000,
    dimensions: { cluster: `cluster-${resource % 8}` },
  };
});

const service = await startServiceProcess("monitoring");
const sql = postgres(service.databaseUrl, { max: 4, onnotice: () => {} });
try {
  // ours
  const client = createClient(
    MetricService,
    createGrpcTransport({ baseUrl: service.url, interceptors: [(next) => (req) => (req.header.set("authorization", `Bearer ${service.token}`), next(req))] }),
  );
  async function* messages(from: number, to: number): AsyncIterable<MessageInitShape<typeof MetricServiceIngestRequestSchema>> {
    for (let at = from; at < to; at += perMessage) {
      yield {
        samples: samples.slice(at, Math.min(to, at + perMessage)).map((s) => ({ resourceId: s.resourceId, metricName: s.metricName, value: s.value, unit: s.unit, timestamp: timestampFromMs(s.at), dimensions: s.dimensions })),
      };
    }
  }
  // Warm-up, not timed, then emptied: one message's worth on each side, so both are measured at
  // their steady rate. At the quick size the service's one-time costs (the first HTTP/2 connection
  // and token check, V8 compiling the protobuf decoder and the write path) were otherwise a large
  // part of what was measured, and the baseline (a loop in this already warm process) has none.
  const warmUp = Math.min(perMessage, total);
  await client.ingest(messages(0, warmUp));
  await sql`truncate monitoring.metrics`;

  const oursStarted = performance.now();
  const answer = await client.ingest(messages(0, total));
  const oursSeconds = (performance.now() - oursStarted) / 1000;
  const [{ count }] = await sql`select count(*)::int as count from monitoring.metrics`;
  if (answer.createdCount !== total || answer.failedCount !== 0 || count !== total) {
    throw new Error(`Ingest created ${answer.createdCount} (failed ${answer.failedCount}), table holds ${count}; expected ${total}`);
  }

  // baseline: COPY of the same rows into a plain table with the same columns and indexes
  await sql`create table monitoring.metrics_baseline (like monitoring.metrics including defaults including indexes)`;
  const copyBaseline = async (to: number) => {
    const copy = await sql`copy monitoring.metrics_baseline (metric_id, domain_id, resource_id, metric_name, value, unit, "timestamp", dimensions) from stdin`.writable();
    for (let from = 0; from < to; from += perMessage) {
      const lines = samples
        .slice(from, Math.min(to, from + perMessage))
        .map((s) => `metric-${randomUUID()}\tdomain-default\t${s.resourceId}\t${s.metricName}\t${s.value}\t${s.unit}\t${new Date(s.at).toISOString()}\t${JSON.stringify(s.dimensions)}\n`)
        .join("");
      if (!copy.write(lines)) await new Promise((resolve) => copy.once("drain", resolve));
    }
    copy.end();
    await finished(copy);
  };
  await copyBaseline(warmUp);
  await sql`truncate monitoring.metrics_baseline`;
  const baselineStarted = performance.now();
  await copyBaseline(total);
  const baselineSeconds = (performance.now() - baselineStarted) / 1000;
  const [{ copied }] = await sql`select count(*)::int as copied from monitoring.metrics_baseline`;
  if (copied !== total) throw new Error(`COPY stored ${copied} rows; expected ${total}`);

  const ours = total / oursSeconds;
  const baseline = total / baselineSeconds;
  report({
    name: "metric-ingest",
    quick,
    rows: [
      { case: `ours: MetricService.Ingest (gRPC stream, ${perMessage}/message)`, value: ours, unit: "samples/s", samples: total, seconds: oursSeconds },
      { case: "baseline: postgres.js COPY FROM STDIN", value: baseline, unit: "samples/s", samples: total, seconds: baselineSeconds },
    ],
    ratio: ours / baseline,
    ratioMeaning: "ours samples/s ÷ baseline samples/s; higher is better",
  });
} finally {
  await sql.end();
  await service.stop();
}
