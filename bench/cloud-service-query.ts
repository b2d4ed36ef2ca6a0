// List and Stat through CloudServiceService (the RPC, the query language, Drizzle) against the same
// questions asked in hand-written SQL over postgres.js on the same table, in the same run, at 100,000
// and then 1,000,000 resources (`--quick`: 10,000). List: issue 9's 3 filters + sort + page, and seed
// 000's 5-filter query; Stat: seed 000's group by 2 keys with 4 statistics. The first 100,000 are
// loaded with BatchUpsert (whose rate is reported); the rest are generated in SQL in the same shape,
// since loading 900,000 more through the RPC would take minutes and measure ingest, which
// resource-ingest does.
import { fromJson } from "@bufbuild/protobuf";
import { createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import postgres from "postgres";
import { cloudServiceModule } from "@cloudforet/cloud-service";
import { identityModule } from "@cloudforet/identity";
import { CloudServiceService } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_pb";
import { QuerySchema, StatQuerySchema } from "@cloudforet/proto/cloudforet/common/v1/query_pb";
import { AuthService } from "@cloudforet/proto/cloudforet/identity/v1/auth_pb";
import { startService } from "@cloudforet/runtime";
import { createTestDatabase } from "@cloudforet/testing";
import { isQuick, quantile, report, type BenchRow } from "./support/report";
import { benchResource, generatedResourcesSql } from "./support/resources";

const quick = isQuick();
const sizes = quick ? [10_000] : [100_000, 1_000_000];
/** Timed runs per query and side; fewer at 1,000,000, where one Stat takes a second or more. */
const runsAt = (size: number) => (quick ? 15 : size > 100_000 ? 12 : 40);
const password = "Bench-Passw0rd!";

const database = await createTestDatabase("bench_cs");
const env = {
  DATABASE_URL: database.url,
  LOG_LEVEL: "silent",
  CLOUDFORET_ADMIN_PASSWORD: password,
  IDENTITY_SECRET_KEYS: `bench:${Buffer.alloc(32, 9).toString("base64")}`,
  IDENTITY_ADDR: "127.0.0.1:0",
  CLOUD_SERVICE_ADDR: "127.0.0.1:0",
};
const identity = await startService(identityModule, env);
const cloudService = await startService(cloudServiceModule, { ...env, IDENTITY_URL: identity.url });
const sql = postgres(database.url, { max: 2, onnotice: () => {} });

try {
  const { token } = await createClient(AuthService, createGrpcTransport({ baseUrl: identity.url })).login({ domainId: "domain-default", userId: "admin", password });
  const bearer: Interceptor = (next) => (req) => {
    req.header.set("authorization", `Bearer ${token}`);
    return next(req);
  };
  const client = createClient(CloudServiceService, createGrpcTransport({ baseUrl: cloudService.url, interceptors: [bearer] }));

  // Load the first size through the RPC.
  const loadSize = sizes[0];
  const loadStarted = performance.now();
  const loaded = await client.batchUpsert(
    (async function* () {
      for (let start = 0; start < loadSize; start += 1000) yield { items: Array.from({ length: Math.min(1000, loadSize - start) }, (_, k) => benchResource(start + k)) };
    })(),
  );
  const loadSeconds = (performance.now() - loadStarted) / 1000;
  if (loaded.createdCount !== loadSize) throw new Error(`loaded ${loaded.createdCount} of ${loadSize}: ${JSON.stringify(loaded.errors.slice(0, 3))}`);

  const live = "domain_id = 'domain-default' and state <> 'DELETED'";
  // Issue 9's List: 3 filters, a sort and a page.
  const list3Query = {
    filter: [
      { k: "provider", v: "nutanix", o: "eq" },
      { k: "cloud_service_type", v: "compute.Instance", o: "eq" },
      { k: "state", v: "ON", o: "eq" },
    ],
    sort: { key: "name", desc: false },
    page: { start: 0, limit: 50 },
  };
  const list3Where = `${live} and provider = 'nutanix' and cloud_service_type = 'compute.Instance' and state = 'ON'`;
  // The two questions of seed 000, as the seed writes them.
  const listQuery = {
    filter: [
      { k: "provider", v: "nutanix", o: "eq" },
      { k: "cloud_service_type", v: "compute.Instance", o: "eq" },
      { k: "state", v: "ON", o: "eq" },
      { k: "account", v: "sa-prod-cluster-00", o: "eq" },
      { k: "tags.environment", v: "production", o: "eq" },
    ],
    sort: { key: "name", desc: false },
    page: { start: 0, limit: 50 },
    only: ["cloud_service_id", "name", "state", "account", "data"],
  };
  const listWhere = `${live} and provider = 'nutanix' and cloud_service_type = 'compute.Instance' and state = 'ON' and account = 'sa-prod-cluster-00' and tags->>'environment' = 'production'`;
  const statQuery = {
    aggregate: [
      {
        group: { keys: ["data.cluster", "state"] },
        statistics: { count: { key: "cloud_service_id" }, avg_cpu: { field: "data.cpu_cores" }, avg_memory: { field: "data.memory_gb" }, total_disk: { field: "data.disk_total_gb" } },
      },
    ],
    filter: [
      { k: "provider", v: "nutanix", o: "eq" },
      { k: "cloud_service_type", v: "compute.Instance", o: "eq" },
    ],
  };
  // The seed's JSON, as a client reads it into the generated messages.
  const list3Message = fromJson(QuerySchema, list3Query);
  const listMessage = fromJson(QuerySchema, listQuery);
  const statMessage = fromJson(StatQuerySchema, statQuery);
  const oursList3 = () => client.list({ query: list3Message });
  const oursList = () => client.list({ query: listMessage });
  const oursStat = () => client.stat({ query: statMessage });
  const baselineList3 = () =>
    Promise.all([
      sql.unsafe(`select * from cloud_service.cloud_services where ${list3Where} order by name, created_at, cloud_service_id limit 50 offset 0`),
      sql.unsafe(`select count(*)::int as total from cloud_service.cloud_services where ${list3Where}`),
    ]);
  const baselineList = () =>
    Promise.all([
      sql.unsafe(`select cloud_service_id, name, state, account, data from cloud_service.cloud_services where ${listWhere} order by name, created_at, cloud_service_id limit 50 offset 0`),
      sql.unsafe(`select count(*)::int as total from cloud_service.cloud_services where ${listWhere}`),
    ]);
  const baselineStat = () =>
    sql.unsafe(`select data->>'cluster' as cluster, state, count(*)::int as count, avg((data->>'cpu_cores')::numeric) as avg_cpu,
          avg((data->>'memory_gb')::numeric) as avg_memory, sum((data->>'disk_total_gb')::numeric) as total_disk
        from cloud_service.cloud_services
        where ${live} and provider = 'nutanix' and cloud_service_type = 'compute.Instance'
        group by 1, 2`);

  // Interleaved, so that a change of load on the machine hits both sides alike.
  const compare = async (ours: () => Promise<unknown>, baseline: () => Promise<unknown>, runs: number) => {
    for (let i = 0; i < 3; i++) await Promise.all([ours(), baseline()]);
    const samples = { ours: [] as number[], baseline: [] as number[] };
    const timed = async (run: () => Promise<unknown>, into: number[]) => {
      const started = performance.now();
      await run();
      into.push(performance.now() - started);
    };
    for (let i = 0; i < runs; i++) {
      await timed(ours, samples.ours);
      await timed(baseline, samples.baseline);
    }
    const summary = (values: number[]) => ({ p50: quantile(values, 0.5), p99: quantile(values, 0.99) });
    return { ours: summary(samples.ours), baseline: summary(samples.baseline) };
  };

  const rows: BenchRow[] = [{ case: "ours: BatchUpsert load", value: loadSize / loadSeconds, unit: "rows/s", rows: loadSize }];
  let ratio = NaN;
  let stored = loadSize;
  for (const size of sizes) {
    for (let from = stored; from < size; from += 100_000) await sql.unsafe(generatedResourcesSql("cloud_service.cloud_services", from, Math.min(size, from + 100_000)));
    stored = size;
    await sql`analyze cloud_service.cloud_services`;

    // Same answers first: the comparison is only fair if both do the same work.
    const [list3, [base3Rows, [{ total: base3Total }]]] = await Promise.all([oursList3(), baselineList3()]);
    if (list3.totalCount !== base3Total || list3.results[0]?.name !== base3Rows[0]?.name) throw new Error(`List (3 filters) and its baseline disagree at ${size}`);
    const [list, [baseRows, [{ total: baseTotal }]]] = await Promise.all([oursList(), baselineList()]);
    if (list.totalCount !== baseTotal || list.results[0]?.name !== baseRows[0]?.name) throw new Error(`List and its baseline disagree at ${size}`);
    const [stat, baseStat] = await Promise.all([oursStat(), baselineStat()]);
    if (stat.results.length !== baseStat.length) throw new Error(`Stat and its baseline disagree at ${size}`);

    const runs = runsAt(size);
    const list3Times = await compare(oursList3, baselineList3, runs);
    const listTimes = await compare(oursList, baselineList, runs);
    const statTimes = await compare(oursStat, baselineStat, runs);
    rows.push(
      { case: `ours: List, 3 filters + sort + page, ${size} rows`, value: list3Times.ours.p50, unit: "ms p50", p99_ms: list3Times.ours.p99, total_count: list3.totalCount },
      { case: "baseline: hand-written SQL (page + count)", value: list3Times.baseline.p50, unit: "ms p50", p99_ms: list3Times.baseline.p99 },
      { case: `ours: List, seed 000 query (5 filters), ${size} rows`, value: listTimes.ours.p50, unit: "ms p50", p99_ms: listTimes.ours.p99, total_count: list.totalCount },
      { case: "baseline: hand-written SQL (page + count)", value: listTimes.baseline.p50, unit: "ms p50", p99_ms: listTimes.baseline.p99 },
      { case: `ours: Stat, group by 2 keys, ${size} rows`, value: statTimes.ours.p50, unit: "ms p50", p99_ms: statTimes.ours.p99, groups: stat.results.length },
      { case: "baseline: hand-written SQL (group by)", value: statTimes.baseline.p50, unit: "ms p50", p99_ms: statTimes.baseline.p99 },
    );
    // The headline is the largest size's.
    ratio = (list3Times.ours.p50 + statTimes.ours.p50) / (list3Times.baseline.p50 + statTimes.baseline.p50);
  }

  report({
    name: "cloud-service-query",
    quick,
    rows,
    ratio,
    ratioMeaning: `ours / baseline p50 latency of List (3 filters) + Stat at ${sizes.at(-1)} rows; lower is better (1 = as fast as hand-written SQL)`,
  });
} finally {
  await sql.end();
  await cloudService.close();
  await identity.close();
  await database.drop();
}
