// List and Stat over 100,000 resources through CloudServiceService (the RPC, the query language, Drizzle)
// against the same questions asked in hand-written SQL over postgres.js on the same table, in the same
// run. The resources are loaded with BatchUpsert, whose rate is reported too. `--quick`: 10,000.
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
import { isQuick, quantile, report } from "./support/report";

const quick = isQuick();
const total = quick ? 10_000 : 100_000;
const runs = quick ? 15 : 40;
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

  // Load: seed 000's kind of resources, spread over providers, types, states, accounts and clusters.
  const resource = (i: number) => ({
    cloudServiceType: i % 10 < 7 ? "compute.Instance" : "compute.Disk",
    cloudServiceGroup: "Nutanix",
    cloudServiceName: `server-${String(i).padStart(6, "0")}`,
    provider: i % 5 === 4 ? "aws" : "nutanix",
    account: `sa-prod-cluster-${String(i % 10).padStart(2, "0")}`,
    data: { state: i % 5 === 1 ? "OFF" : "ON", cpu_cores: 2 ** (i % 5), memory_gb: 8 * (1 + (i % 8)), disk_total_gb: 100 * (1 + (i % 10)), cluster: `cluster-${i % 5}` },
    tags: { environment: i % 2 === 0 ? "production" : "development", owner: "devops-team" },
    reference: { resourceId: `vm-${i}`, externalLink: `https://prism.local/vm/${i}` },
  });
  const loadStarted = performance.now();
  const loaded = await client.batchUpsert(
    (async function* () {
      for (let start = 0; start < total; start += 1000) yield { items: Array.from({ length: Math.min(1000, total - start) }, (_, k) => resource(start + k)) };
    })(),
  );
  const loadSeconds = (performance.now() - loadStarted) / 1000;
  if (loaded.createdCount !== total) throw new Error(`loaded ${loaded.createdCount} of ${total}: ${JSON.stringify(loaded.errors.slice(0, 3))}`);
  await sql`analyze cloud_service.cloud_services`;

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
  const listMessage = fromJson(QuerySchema, listQuery);
  const statMessage = fromJson(StatQuerySchema, statQuery);
  const oursList = () => client.list({ query: listMessage });
  const oursStat = () => client.stat({ query: statMessage });
  const baselineList = () =>
    Promise.all([
      sql`select cloud_service_id, name, state, account, data from cloud_service.cloud_services
          where domain_id = 'domain-default' and state <> 'DELETED' and provider = 'nutanix' and cloud_service_type = 'compute.Instance'
            and state = 'ON' and account = 'sa-prod-cluster-00' and tags->>'environment' = 'production'
          order by name, created_at, cloud_service_id limit 50 offset 0`,
      sql`select count(*)::int as total from cloud_service.cloud_services
          where domain_id = 'domain-default' and state <> 'DELETED' and provider = 'nutanix' and cloud_service_type = 'compute.Instance'
            and state = 'ON' and account = 'sa-prod-cluster-00' and tags->>'environment' = 'production'`,
    ]);
  const baselineStat = () =>
    sql`select data->>'cluster' as cluster, state, count(*)::int as count, avg((data->>'cpu_cores')::numeric) as avg_cpu,
          avg((data->>'memory_gb')::numeric) as avg_memory, sum((data->>'disk_total_gb')::numeric) as total_disk
        from cloud_service.cloud_services
        where domain_id = 'domain-default' and state <> 'DELETED' and provider = 'nutanix' and cloud_service_type = 'compute.Instance'
        group by 1, 2`;

  // Same answers first: the comparison is only fair if both do the same work.
  const [list, [baseRows, [{ total: baseTotal }]]] = await Promise.all([oursList(), baselineList()]);
  if (list.totalCount !== baseTotal || list.results[0]?.name !== baseRows[0]?.name) throw new Error("List and its baseline disagree");
  const [stat, baseStat] = await Promise.all([oursStat(), baselineStat()]);
  if (stat.results.length !== baseStat.length) throw new Error("Stat and its baseline disagree");

  // Interleaved, so that a change of load on the machine hits both sides alike.
  const compare = async (ours: () => Promise<unknown>, baseline: () => Promise<unknown>) => {
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
  const listTimes = await compare(oursList, baselineList);
  const statTimes = await compare(oursStat, baselineStat);
  const ours = { list: listTimes.ours, stat: statTimes.ours };
  const baseline = { list: listTimes.baseline, stat: statTimes.baseline };

  report({
    name: "cloud-service-query",
    quick,
    rows: [
      { case: `ours: List (seed 000 query) over ${total} rows`, value: ours.list.p50, unit: "ms p50", p99_ms: ours.list.p99, total_count: list.totalCount },
      { case: "baseline: hand-written SQL (page + count)", value: baseline.list.p50, unit: "ms p50", p99_ms: baseline.list.p99 },
      { case: `ours: Stat (seed 000 query) over ${total} rows`, value: ours.stat.p50, unit: "ms p50", p99_ms: ours.stat.p99, groups: stat.results.length },
      { case: "baseline: hand-written SQL (group by)", value: baseline.stat.p50, unit: "ms p50", p99_ms: baseline.stat.p99 },
      { case: "ours: BatchUpsert load", value: total / loadSeconds, unit: "rows/s", rows: total },
    ],
    ratio: (ours.list.p50 + ours.stat.p50) / (baseline.list.p50 + baseline.stat.p50),
    ratioMeaning: "ours / baseline p50 latency of List + Stat; lower is better (1 = as fast as hand-written SQL)",
  });
} finally {
  await sql.end();
  await cloudService.close();
  await identity.close();
  await database.drop();
}
