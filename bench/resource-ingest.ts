// Resources/s through CloudServiceService.BatchUpsert (one client stream over gRPC/h2c, 1,000 items a
// message, into a cloud-service running as its own process: validation, match rules, upsert, outbox)
// against postgres.js multi-row INSERTs of the same rows into a copy of the table with the same
// indexes, in the same database, in the same run. 100,000 resources; `--quick`: 10,000.
import { randomUUID } from "node:crypto";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import postgres from "postgres";
import { CloudServiceService } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_pb";
import { isQuick, report } from "./support/report";
import { benchResource, benchResourceRow } from "./support/resources";
import { startServiceProcess } from "./support/service-process";

const quick = isQuick();
const total = quick ? 10_000 : 100_000;
const perMessage = 1_000;

const service = await startServiceProcess("cloud-service");
const sql = postgres(service.databaseUrl, { max: 4, onnotice: () => {} });
try {
  const client = createClient(
    CloudServiceService,
    createGrpcTransport({ baseUrl: service.url, interceptors: [(next) => (req) => (req.header.set("authorization", `Bearer ${service.token}`), next(req))] }),
  );
  // Built before the clock starts, as the baseline's rows are.
  const messages = Array.from({ length: Math.ceil(total / perMessage) }, (_, m) => ({
    items: Array.from({ length: Math.min(perMessage, total - m * perMessage) }, (_, k) => benchResource(m * perMessage + k)),
  }));

  // ours
  const oursStarted = performance.now();
  const answer = await client.batchUpsert(
    (async function* () {
      yield* messages;
    })(),
  );
  const oursSeconds = (performance.now() - oursStarted) / 1000;
  const [{ count }] = await sql`select count(*)::int as count from cloud_service.cloud_services where state <> 'DELETED'`;
  if (answer.createdCount !== total || count !== total) throw new Error(`BatchUpsert created ${answer.createdCount} (stored ${count}) of ${total}: ${JSON.stringify(answer.errors.slice(0, 3))}`);

  // baseline: the same rows, multi-row INSERT with postgres.js, into a copy of the table
  await sql`create table cloud_service.cloud_services_baseline (like cloud_service.cloud_services including defaults including indexes)`;
  const rows = Array.from({ length: total }, (_, i) => benchResourceRow(i, `cloud-svc-${randomUUID()}`));
  const perInsert = Math.floor(65_000 / Object.keys(rows[0]).length);
  const baselineStarted = performance.now();
  for (let from = 0; from < total; from += perInsert) {
    const values = rows.slice(from, from + perInsert).map((row) => ({ ...row, data: sql.json(row.data), tags: sql.json(row.tags), reference: sql.json(row.reference) }));
    await sql`insert into cloud_service.cloud_services_baseline ${sql(values)}`;
  }
  const baselineSeconds = (performance.now() - baselineStarted) / 1000;
  const [{ count: baselineCount }] = await sql`select count(*)::int as count from cloud_service.cloud_services_baseline`;
  if (baselineCount !== total) throw new Error(`the baseline stored ${baselineCount} of ${total}`);

  const ours = total / oursSeconds;
  const baseline = total / baselineSeconds;
  report({
    name: "resource-ingest",
    quick,
    rows: [
      { case: `ours: CloudServiceService.BatchUpsert (gRPC stream, ${perMessage}/message)`, value: ours, unit: "res/s", resources: total, seconds: oursSeconds },
      { case: "baseline: postgres.js multi-row INSERT", value: baseline, unit: "res/s", resources: total, seconds: baselineSeconds },
    ],
    ratio: ours / baseline,
    ratioMeaning: "ours resources/s ÷ baseline resources/s; higher is better",
  });
} finally {
  await sql.end();
  await service.stop();
}
