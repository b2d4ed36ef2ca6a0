// Authenticated reads through the platform (token check, access, interceptors, logging, metrics, the
// query layer) against a bare connect-node server answering the same procedures with one postgres.js
// statement each and no auth, in the same run, over the same data. Three reads: CloudServiceTypeService/
// List, UserService/List (identity), CloudServiceService/Get; each at 1 and at 32 concurrent
// connections (one HTTP/2 session per connection, one call in flight on each).
//
// Both sides reach Postgres through the same counting proxy, so each pays the same per-statement cost,
// and the bench also prints how many database round trips one call of ours costs (the goal is one).
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { create, type DescMessage, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { createClient, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import { connectNodeAdapter, createGrpcTransport } from "@connectrpc/connect-node";
import postgres from "postgres";
import { cloudServiceModule } from "@cloudforet/cloud-service";
import { identityModule } from "@cloudforet/identity";
import { CloudServiceService } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_pb";
import { CloudServiceTypeSchema, CloudServiceTypeService } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_type_pb";
import { AuthService } from "@cloudforet/proto/cloudforet/identity/v1/auth_pb";
import { RequestLogService } from "@cloudforet/proto/cloudforet/identity/v1/request_log_pb";
import { RoleBinding_Role, UserSchema, UserService, User_State } from "@cloudforet/proto/cloudforet/identity/v1/user_pb";
import { startService } from "@cloudforet/runtime";
import { createTestDatabase, startStatementCounter } from "@cloudforet/testing";
import { isQuick, quantile, report, type BenchRow } from "./support/report";
import { benchResource } from "./support/resources";

const quick = isQuick();
/** Timed calls per read, side and concurrency. */
const callsAt = (concurrency: number) => (quick ? (concurrency === 1 ? 120 : 480) : concurrency === 1 ? 2_000 : 10_000);
const started = performance.now();
/** Progress on stderr, so a slow stage shows where the time goes. */
const stage = (what: string) => process.stderr.write(`[authenticated-read ${((performance.now() - started) / 1000).toFixed(1)}s] ${what}\n`);
const concurrencies = [1, 32];
const password = "Bench-Passw0rd!";
const page = { start: 0, limit: 20 };
const clients = new WeakMap<Transport, Map<unknown, unknown>>();

const database = await createTestDatabase("bench_auth_read");
const counter = await startStatementCounter(database.url);
const env = {
  DATABASE_URL: counter.url,
  LOG_LEVEL: "info", // logging on, as in production (to /dev/null: the bench measures the work, not the terminal)
  CLOUDFORET_ADMIN_PASSWORD: password,
  IDENTITY_SECRET_KEYS: `bench:${Buffer.alloc(32, 9).toString("base64")}`,
  IDENTITY_ADDR: "127.0.0.1:0",
  CLOUD_SERVICE_ADDR: "127.0.0.1:0",
  CLOUDFORET_SHUTDOWN_GRACE_MS: "1000", // the bench's idle client connections need no drain
};
// The services log to stdout: keep the bench's own table readable.
const writeStdout = process.stdout.write.bind(process.stdout);
process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) =>
  typeof chunk === "string" && chunk.startsWith("{") ? true : writeStdout(chunk, ...(rest as []))) as typeof process.stdout.write;

const identity = await startService(identityModule, env);
const cloudService = await startService(cloudServiceModule, { ...env, IDENTITY_URL: identity.url });
const sql = postgres(counter.url, { max: 10, onnotice: () => {}, fetch_types: false });
const bare = await startBareServer(sql);

try {
  const { token } = await createClient(AuthService, createGrpcTransport({ baseUrl: identity.url })).login({ domainId: "domain-default", userId: "admin", password });
  const bearer: Interceptor = (next) => (req) => {
    req.header.set("authorization", `Bearer ${token}`);
    return next(req);
  };
  const transport = (baseUrl: string, auth: boolean) => createGrpcTransport({ baseUrl, interceptors: auth ? [bearer] : [] });

  // The data: 20 resource types, 20 users with a workspace binding each, 200 resources.
  const setup = { types: createClient(CloudServiceTypeService, transport(cloudService.url, true)), users: createClient(UserService, transport(identity.url, true)) };
  stage("services started; loading data");
  for (let i = 0; i < 20; i++) {
    await setup.types.create({ name: `Type${i}`, group: "Bench", provider: "nutanix", tags: { n: String(i) } });
    // No password: hashing one (deliberately slow) would only lengthen the set-up.
    await setup.users.create({ userId: `bench-user-${i}`, password: "", name: `User ${i}`, email: `u${i}@bench.local`, roleBindings: [{ role: RoleBinding_Role.DOMAIN_ADMIN }] });
  }
  const resources = createClient(CloudServiceService, transport(cloudService.url, true));
  await resources.batchUpsert(
    (async function* () {
      yield { items: Array.from({ length: 200 }, (_, i) => benchResource(i)) };
    })(),
  );
  const someId = (await sql`select cloud_service_id from cloud_service.cloud_services order by name limit 1`)[0].cloud_service_id as string;

  const reads: Array<{ name: string; call(url: string, t: Transport): Promise<unknown> }> = [
    { name: "CloudServiceType/List", call: (_u, t) => createClientCached(CloudServiceTypeService, t).list({ query: { page } }) },
    { name: "User/List", call: (_u, t) => createClientCached(UserService, t).list({ query: { page } }) },
    { name: "CloudService/Get", call: (_u, t) => createClientCached(CloudServiceService, t).get({ cloudServiceId: someId }) },
  ];
  const ourUrl = (name: string) => (name.startsWith("User") ? identity.url : cloudService.url);

  stage("data loaded; counting round trips");
  // Round trips per call, ours and the baseline's (the latter is one by construction).
  const roundTrips: Record<string, number> = {};
  for (const read of reads) {
    const t = transport(ourUrl(read.name), true);
    for (let i = 0; i < 5; i++) await read.call(ourUrl(read.name), t); // caches warm, statements prepared
    counter.reset();
    const n = 20;
    for (let i = 0; i < n; i++) await read.call(ourUrl(read.name), t);
    roundTrips[read.name] = counter.roundTrips() / n;
    if (process.env.BENCH_SHOW_SQL) process.stderr.write(`${read.name}:\n  ${[...new Set(counter.statements())].join("\n  ")}\n`);
  }

  stage("timing");
  const rows: BenchRow[] = [];
  const ratios: number[] = [];
  for (const read of reads) {
    for (const concurrency of concurrencies) {
      // Alternate the sides so that a noisy neighbour hurts both alike.
      const baseline = await drive((t) => read.call(bare.url, t), bare.url, false, concurrency, transport);
      const measured = await drive((t) => read.call(ourUrl(read.name), t), ourUrl(read.name), true, concurrency, transport);
      const extras = { calls: callsAt(concurrency), connections: concurrency };
      rows.push({ case: `ours: ${read.name} c=${concurrency}`, value: measured.perSecond, unit: "calls/s", p50_ms: measured.p50, p99_ms: measured.p99, db_round_trips: roundTrips[read.name], ...extras });
      rows.push({ case: `baseline: ${read.name} c=${concurrency}`, value: baseline.perSecond, unit: "calls/s", p50_ms: baseline.p50, p99_ms: baseline.p99, db_round_trips: 1, ...extras });
      ratios.push(measured.perSecond / baseline.perSecond);
    }
  }

  // Request logging (seed 001 RequestLogs): the rows above ran with it off for the caller (the zero-cost
  // path: one Map check); here the same caller turns it on and the first read is timed again.
  stage("timing with request logging on");
  const requestLogs = createClient(RequestLogService, transport(identity.url, true));
  await requestLogs.start({ truncateLongMessage: true });
  const logged = reads[0];
  await until(async () => {
    await logged.call(ourUrl(logged.name), transport(ourUrl(logged.name), true));
    return (await requestLogs.list({ service: "cloud-service", limit: 1 })).totalCount > 0;
  });
  for (const concurrency of concurrencies) {
    const off = rows.find((row) => row.case === `ours: ${logged.name} c=${concurrency}`)!.value;
    const on = await drive((t) => logged.call(ourUrl(logged.name), t), ourUrl(logged.name), true, concurrency, transport);
    rows.push({ case: `ours: ${logged.name} c=${concurrency} request logging on`, value: on.perSecond, unit: "calls/s", p50_ms: on.p50, p99_ms: on.p99, on_vs_off: on.perSecond / off, calls: callsAt(concurrency), connections: concurrency });
  }
  await requestLogs.stop({});

  report({
    name: "authenticated-read",
    quick,
    rows,
    // The geometric mean: no single read or concurrency dominates the headline.
    ratio: Math.exp(ratios.reduce((sum, r) => sum + Math.log(r), 0) / ratios.length),
    ratioMeaning: "ours / bare connect-node + postgres.js calls per second, geometric mean over 3 reads × {1, 32} connections; higher is better",
  });
} finally {
  stage("stopping");
  bare.close();
  await Promise.all([cloudService.close(), identity.close()]);
  await sql.end({ timeout: 2 });
  await counter.close();
  await database.drop();
  stage("done");
}
// The clients' idle HTTP/2 sessions would keep the process alive for their idle timeout.
process.exit(0);

/** Polls `check` until it holds (10 s at most). */
async function until(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("request logging did not reach the service within 10 s");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** `concurrency` connections, each with one call in flight, until the calls are done. */
async function drive(
  call: (t: Transport) => Promise<unknown>,
  url: string,
  auth: boolean,
  concurrency: number,
  transport: (url: string, auth: boolean) => Transport,
): Promise<{ perSecond: number; p50: number; p99: number }> {
  const calls = callsAt(concurrency);
  const transports = Array.from({ length: concurrency }, () => transport(url, auth));
  for (const t of transports) for (let i = 0; i < 3; i++) await call(t); // connect and warm up
  const latencies: number[] = [];
  let issued = 0;
  const started = performance.now();
  await Promise.all(
    transports.map(async (t) => {
      while (issued < calls) {
        issued++;
        const at = performance.now();
        await call(t);
        latencies.push(performance.now() - at);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { perSecond: calls / seconds, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) };
}

/** One client per service and transport (creating one per call would measure client construction). */
function createClientCached<S extends Parameters<typeof createClient>[0]>(service: S, t: Transport): Client<S> {
  let byService = clients.get(t);
  if (!byService) clients.set(t, (byService = new Map()));
  let client = byService.get(service) as Client<S> | undefined;
  if (!client) byService.set(service, (client = createClient(service, t)));
  return client;
}

/**
 * The baseline: connect-node's own adapter on a plain h2c server, each procedure one SQL statement
 * over postgres.js (rows and total in one statement for the Lists), no auth, no interceptors.
 */
async function startBareServer(db: postgres.Sql): Promise<{ url: string; close(): void }> {
  const msg = <D extends DescMessage>(schema: D, init: MessageInitShape<D>) => create(schema, init);
  const ts = (d: Date | null) => (d ? timestampFromDate(d) : undefined);
  const handler = connectNodeAdapter({
    routes(router) {
      router.service(CloudServiceTypeService, {
        async list(req) {
          const limit = req.query?.page?.limit || 20;
          const rows = await db`select *, count(*) over () as total from cloud_service.cloud_service_types where domain_id = 'domain-default' order by cloud_service_type_id limit ${limit}`;
          return {
            results: rows.map((r) => msg(CloudServiceTypeSchema, { cloudServiceTypeId: r.cloud_service_type_id, key: r.key, name: r.name, group: r.group, provider: r.provider, isBuiltin: r.is_builtin, metadata: r.metadata, tags: r.tags, domainId: r.domain_id, createdAt: ts(r.created_at), updatedAt: ts(r.updated_at) })),
            totalCount: Number(rows[0]?.total ?? 0),
          };
        },
      });
      router.service(UserService, {
        async list(req) {
          const limit = req.query?.page?.limit || 20;
          // Users with their bindings aggregated, and the total, in one statement.
          const rows = await db`
            select u.*, count(*) over () as total,
                   coalesce((select json_agg(json_build_object('role', b.role, 'workspace_id', b.workspace_id)) from identity.role_bindings b
                             where b.domain_id = u.domain_id and b.user_id = u.user_id), '[]') as bindings
            from identity.users u where u.domain_id = 'domain-default' order by u.user_id limit ${limit}`;
          return {
            results: rows.map((r) =>
              msg(UserSchema, {
                userId: r.user_id, name: r.name, email: r.email, state: User_State.ENABLED, domainId: r.domain_id, tags: r.tags, createdAt: ts(r.created_at),
                roleBindings: (r.bindings as Array<{ role: string; workspace_id: string | null }>).map((b) => ({ role: RoleBinding_Role[b.role as keyof typeof RoleBinding_Role], workspaceId: b.workspace_id ?? "" })),
              }),
            ),
            totalCount: Number(rows[0]?.total ?? 0),
          };
        },
      });
      router.service(CloudServiceService, {
        async get(req) {
          const [r] = await db`select * from cloud_service.cloud_services where domain_id = 'domain-default' and cloud_service_id = ${req.cloudServiceId}`;
          return {
            cloudServiceId: r.cloud_service_id, name: r.name, cloudServiceType: r.cloud_service_type, cloudServiceGroup: r.cloud_service_group, provider: r.provider,
            account: r.account ?? "", data: r.data, tags: r.tags, domainId: r.domain_id, createdAt: ts(r.created_at), updatedAt: ts(r.updated_at),
          } as never;
        },
      });
    },
  });
  const server = http2.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}
