// Resources/s through CloudServiceService.BatchUpsert (one client stream over gRPC/h2c, 1,000 items a
// message, into a cloud-service running as its own process: validation, match rules, upsert, outbox)
// against postgres.js multi-row INSERTs of the same rows into a copy of the table with the same
// indexes (`including all`: the GIN indexes on data and tags too), in the same database, in the same run; then all of them again (every item updates an
// existing resource) against INSERT … ON CONFLICT DO UPDATE. 100,000 resources; `--quick`: 10,000.
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

  // ours, twice: every resource new, then every resource existing (each item matches and updates one)
  const upsertAll = async () => {
    const started = performance.now();
    const answer = await client.batchUpsert(
      (async function* () {
        yield* messages;
      })(),
    );
    return { answer, seconds: (performance.now() - started) / 1000 };
  };
  const { answer, seconds: oursSeconds } = await upsertAll();
  const [{ count }] = await sql`select count(*)::int as count from cloud_service.cloud_services where state <> 'DELETED'`;
  if (answer.createdCount !== total || count !== total) throw new Error(`BatchUpsert created ${answer.createdCount} (stored ${count}) of ${total}: ${JSON.stringify(answer.errors.slice(0, 3))}`);
  const { answer: again, seconds: oursExistingSeconds } = await upsertAll();
  const [{ count: countAgain }] = await sql`select count(*)::int as count from cloud_service.cloud_services where state <> 'DELETED'`;
  if (again.updatedCount !== total || countAgain !== total) throw new Error(`BatchUpsert of existing resources updated ${again.updatedCount} (stored ${countAgain}) of ${total}: ${JSON.stringify(again.errors.slice(0, 3))}`);

  // baseline: the same rows, multi-row INSERT with postgres.js, into a copy of the table; then the
  // same rows again as INSERT … ON CONFLICT DO UPDATE on the live-resource key (all existing)
  await sql`create table cloud_service.cloud_services_baseline (like cloud_service.cloud_services including all)`;
  const rows = Array.from({ length: total }, (_, i) => benchResourceRow(i, `cloud-svc-${randomUUID()}`));
  const perInsert = Math.floor(65_000 / Object.keys(rows[0]).length);
  const insertAll = async (onConflict: boolean) => {
    const started = performance.now();
    for (let from = 0; from < total; from += perInsert) {
      const values = rows.slice(from, from + perInsert).map((row) => ({ ...row, cloud_service_id: onConflict ? `cloud-svc-${randomUUID()}` : row.cloud_service_id, data: sql.json(row.data), tags: sql.json(row.tags), reference: sql.json(row.reference) }));
      if (onConflict) {
        await sql`insert into cloud_service.cloud_services_baseline ${sql(values)}
                  on conflict (domain_id, provider, cloud_service_type, resource_id) where state <> 'DELETED' and resource_id <> ''
                  do update set name = excluded.name, cloud_service_group = excluded.cloud_service_group, account = excluded.account, state = excluded.state,
                                data = excluded.data, tags = excluded.tags, reference = excluded.reference, updated_at = now()`;
      } else {
        await sql`insert into cloud_service.cloud_services_baseline ${sql(values)}`;
      }
    }
    return (performance.now() - started) / 1000;
  };
  const baselineSeconds = await insertAll(false);
  const baselineExistingSeconds = await insertAll(true);
  const [{ count: baselineCount }] = await sql`select count(*)::int as count from cloud_service.cloud_services_baseline`;
  if (baselineCount !== total) throw new Error(`the baseline stored ${baselineCount} of ${total}`);

  const ours = total / oursSeconds;
  const baseline = total / baselineSeconds;
  const oursExisting = total / oursExistingSeconds;
  const baselineExisting = total / baselineExistingSeconds;
  report({
    name: "resource-ingest",
    quick,
    rows: [
      { case: `ours: CloudServiceService.BatchUpsert (gRPC stream, ${perMessage}/message), new`, value: ours, unit: "res/s", resources: total, seconds: oursSeconds },
      { case: "baseline: postgres.js multi-row INSERT, new", value: baseline, unit: "res/s", resources: total, seconds: baselineSeconds },
      { case: "ours: BatchUpsert, all existing", value: oursExisting, unit: "res/s", resources: total, seconds: oursExistingSeconds },
      { case: "baseline: INSERT … ON CONFLICT DO UPDATE, all existing", value: baselineExisting, unit: "res/s", resources: total, seconds: baselineExistingSeconds },
    ],
    ratio: Math.min(ours / baseline, oursExisting / baselineExisting),
    ratioMeaning: `the lower of ours ÷ baseline resources/s for new (${(ours / baseline).toFixed(3)}) and all-existing (${(oursExisting / baselineExisting).toFixed(3)}) resources; higher is better`,
  });
} finally {
  await sql.end();
  await service.stop();
}
