// List and Stat through CloudServiceService (the RPC, the query language, Drizzle) at 10,000, 100,000
// and 1,000,000 resources in one domain (`--quick`: 10,000 and 100,000), against two baselines measured in
// the same run: the naive hand-written SQL for the same question (JSON extraction with ->>, an exact
// count, no JSON index), and our own List at 10,000 (issue 15: List p99 at 1M ≤ 2 × at 10k; Stat
// at 1M ≤ 0.5 × the naive SQL). List: 3 filters (2 on JSON paths), sort by name, one page of 50.
// Stat: seed 000's group by 2 keys (data.cluster, state) with count, average and sum.
// The first 10,000 are loaded with BatchUpsert (whose rate is reported); the rest are generated in
// SQL in the same shape, since loading a million through the RPC would measure ingest, which
// resource-ingest does.
import { fromJson } from "@bufbuild/protobuf";
import { createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import postgres from "postgres";
import { cloudServiceModule } from "@cloudforet/cloud-service";
import { identityModule } from "@cloudforet/identity";
import { CloudServiceService } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_pb";
import { CloudServiceTypeService } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_type_pb";
import { QuerySchema, StatQuerySchema } from "@cloudforet/proto/cloudforet/common/v1/query_pb";
import { AuthService } from "@cloudforet/proto/cloudforet/identity/v1/auth_pb";
import { startService } from "@cloudforet/runtime";
import { createTestDatabase } from "@cloudforet/testing";
import { isQuick, quantile, report, type BenchRow } from "./support/report";
import { benchResource, generatedResourcesSql } from "./support/resources";

const quick = isQuick();
// Quick still grows the table tenfold: a plan that holds at 10,000 rows and not beyond (a generic
// plan sorting every match) shows only there.
const sizes = quick ? [10_000, 100_000] : [10_000, 100_000, 1_000_000];
/** Timed runs per query and side; fewer at 1,000,000, where one naive Stat takes a second or more. */
const runsAt = (size: number) => (quick ? 15 : size > 100_000 ? 20 : 40);
/** cloud-service counts List matches exactly up to this many (RESOURCE_COUNT_CAP), then answers cap + 1. */
const countCap = 1_000;
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
  const transport = createGrpcTransport({ baseUrl: cloudService.url, interceptors: [bearer] });
  const client = createClient(CloudServiceService, transport);
  // The type declares the key its users group by, as a CloudForet type's metadata does.
  await createClient(CloudServiceTypeService, transport).create({
    key: "compute.Instance",
    provider: "nutanix",
    metadata: { view: { search: [{ key: "data.cluster", name: "Cluster" }] } },
  });

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
  // 10% of the resources match (benchResource: i % 10 = 2).
  const listQuery = {
    filter: [
      { k: "cloud_service_type", v: "compute.Instance", o: "eq" },
      { k: "data.cluster", v: "cluster-2", o: "eq" },
      { k: "tags.environment", v: "production", o: "eq" },
    ],
    sort: { key: "name", desc: false },
    page: { start: 0, limit: 50 },
  };
  const listWhere = `${live} and cloud_service_type = 'compute.Instance' and data->>'cluster' = 'cluster-2' and tags->>'environment' = 'production'`;
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
  const listMessage = fromJson(QuerySchema, listQuery);
  const statMessage = fromJson(StatQuerySchema, statQuery);
  const oursList = () => client.list({ query: listMessage });
  const oursStat = () => client.stat({ query: statMessage });
  const naiveList = () =>
    Promise.all([
      sql.unsafe(`select * from cloud_service.cloud_services where ${listWhere} order by name, created_at, cloud_service_id limit 50 offset 0`),
      sql.unsafe(`select count(*)::int as total from cloud_service.cloud_services where ${listWhere}`),
    ]);
  const naiveStat = () =>
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
  let listP99At10k = NaN;
  let stored = loadSize;
  for (const size of sizes) {
    for (let from = stored; from < size; from += 100_000) await sql.unsafe(generatedResourcesSql("cloud_service.cloud_services", from, Math.min(size, from + 100_000)));
    stored = size;
    await sql`vacuum analyze cloud_service.cloud_services`;

    // Same answers first: the comparison is only fair if both do the same work.
    const [list, [naiveRows, [{ total: naiveTotal }]]] = await Promise.all([oursList(), naiveList()]);
    const expectedTotal = naiveTotal > countCap ? countCap + 1 : naiveTotal;
    if (list.totalCount !== expectedTotal || list.results.map((r) => r.name).join() !== naiveRows.map((r) => r.name).join()) {
      throw new Error(`List and its baseline disagree at ${size}: ${list.totalCount} vs ${naiveTotal}`);
    }
    const [stat, baseStat] = await Promise.all([oursStat(), naiveStat()]);
    if (stat.results.length !== baseStat.length) throw new Error(`Stat and its baseline disagree at ${size}`);

    const runs = runsAt(size);
    const listTimes = await compare(oursList, naiveList, runs);
    const statTimes = await compare(oursStat, naiveStat, runs);
    if (size === sizes[0]) listP99At10k = listTimes.ours.p99;
    rows.push(
      { case: `ours: List, 3 filters (2 JSON) + sort + page, ${size}`, value: listTimes.ours.p50, unit: "ms p50", p99_ms: listTimes.ours.p99, total_count: list.totalCount },
      { case: "baseline: naive SQL (->>, page + exact count)", value: listTimes.baseline.p50, unit: "ms p50", p99_ms: listTimes.baseline.p99, total_count: naiveTotal },
      { case: `ours: Stat, group by 2 keys, ${size}`, value: statTimes.ours.p50, unit: "ms p50", p99_ms: statTimes.ours.p99, groups: stat.results.length },
      { case: "baseline: naive SQL (->>, group by)", value: statTimes.baseline.p50, unit: "ms p50", p99_ms: statTimes.baseline.p99 },
      { case: `  List p99 ${size} / List p99 ${sizes[0]}`, value: listTimes.ours.p99 / listP99At10k, unit: "x", goal: "<= 2" },
      { case: `  Stat ours / naive p50, ${size}`, value: statTimes.ours.p50 / statTimes.baseline.p50, unit: "x", goal: "<= 0.5 at 1M" },
    );
    // The headline is the largest size's.
    ratio = (listTimes.ours.p50 + statTimes.ours.p50) / (listTimes.baseline.p50 + statTimes.baseline.p50);
  }

  report({
    name: "cloud-service-query",
    quick,
    rows,
    ratio,
    ratioMeaning: `ours / naive SQL p50 latency of List + Stat at ${sizes.at(-1)} rows; lower is better (1 = as fast as hand-written SQL)`,
  });
} finally {
  await sql.end();
  await cloudService.close();
  await identity.close();
  await database.drop();
}
