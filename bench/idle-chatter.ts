// How much an idle platform talks to Postgres: the seven services as separate processes (services
// mode, as in production) with no client at all, measured in database transactions per second.
// Each service gets its own fresh database (they share nothing in Postgres: each has its own
// schema), so pg_stat_database's xact_commit + xact_rollback of each database is exactly that
// service's traffic, and the bench samples from the `postgres` database, so its own queries are
// not counted. Goal (issue 15): at most 2 transactions/s for the whole platform; ratio = tx/s ÷ 2.
// The bus is each process's in-process bus unless IDLE_CHATTER_NATS_URL is set (a shared JetStream
// would hand this run's durable consumers other runs' events, which is not idle).
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import { createTestDatabase, freePort, startPlatformProcesses, testDatabaseUrl, type TestDatabase } from "@cloudforet/testing";
import { isQuick, report, type BenchRow } from "./support/report";

const quick = isQuick();
const settleMs = quick ? 10_000 : 20_000;
const measureMs = quick ? 20_000 : 60_000;
const GOAL_TX_PER_S = 2;
const SERVICES = ["identity", "inventory", "cloud-service", "cost", "monitoring", "notification", "orchestration"] as const;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const envPrefix = (name: string) => name.toUpperCase().replace(/-/g, "_");

const databases = new Map<string, TestDatabase>();
for (const name of SERVICES) databases.set(name, await createTestDatabase(`idle_${name.replace(/-/g, "_")}`));
const dataDir = mkdtempSync(path.join(tmpdir(), "cloudforet-idle-"));
const ports = Object.fromEntries(await Promise.all(SERVICES.map(async (name) => [name, await freePort()] as const)));
const natsUrl = process.env.IDLE_CHATTER_NATS_URL;
const shared: Record<string, string> = {
  CLOUDFORET_ADMIN_PASSWORD: `Idle-${randomBytes(9).toString("base64url")}`,
  IDENTITY_SECRET_KEYS: `idle:${randomBytes(32).toString("base64")}`,
  NOTIFICATION_CREDENTIALS_KEYS: `idle:${randomBytes(32).toString("base64")}`,
  ORCHESTRATION_CREDENTIALS_KEYS: `idle:${randomBytes(32).toString("base64")}`,
  INVENTORY_CREDENTIALS_KEYS: `idle:${randomBytes(32).toString("base64")}`,
  CLOUDFORET_OUTBOUND_ALLOW: "127.0.0.1/32,::1",
  CLOUDFORET_DATA_DIR: dataDir,
  ORCHESTRATION_HTTP_ADDR: `127.0.0.1:${await freePort()}`,
  LOG_LEVEL: "warn",
  ...(natsUrl ? { NATS_URL: natsUrl } : {}),
  ...Object.fromEntries(SERVICES.map((name) => [`${envPrefix(name)}_URL`, `http://127.0.0.1:${ports[name]}`])),
};

const admin = postgres(testDatabaseUrl(), { max: 1, onnotice: () => {} });
const cleanUp = async () => {
  await admin.end({ timeout: 1 }).catch(() => {});
  for (const database of databases.values()) await database.drop().catch(() => {});
  rmSync(dataDir, { recursive: true, force: true });
};

interface Sample {
  at: number;
  tx: Map<string, number>;
  connections: Map<string, number>;
}

/** One read of every service database's transaction counter (from the `postgres` database: not counted). */
async function sample(): Promise<Sample> {
  const names = [...databases.values()].map((d) => d.name);
  const rows = await admin<{ datname: string; tx: string; connections: number }[]>`
    select d.datname, (d.xact_commit + d.xact_rollback)::text as tx,
           (select count(*)::int from pg_stat_activity a where a.datname = d.datname) as connections
    from pg_stat_database d where d.datname in ${admin(names)}`;
  const byDb = new Map(rows.map((r) => [r.datname, r]));
  const tx = new Map<string, number>();
  const connections = new Map<string, number>();
  for (const [service, database] of databases) {
    tx.set(service, Number(byDb.get(database.name)?.tx ?? 0));
    connections.set(service, byDb.get(database.name)?.connections ?? 0);
  }
  return { at: Date.now(), tx, connections };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let platform: Awaited<ReturnType<typeof startPlatformProcesses>> | undefined;
try {
  platform = await startPlatformProcesses({
    root,
    services: SERVICES,
    startFirst: ["identity"],
    ports,
    env: shared,
    envFor: Object.fromEntries(SERVICES.map((name) => [name, { DATABASE_URL: databases.get(name)!.url }])),
    inheritEnv: (variable) => variable !== "NATS_URL" && variable !== "DATABASE_URL",
    readyTimeoutMs: 120_000,
    pollIntervalMs: 250,
  });
  process.stdout.write(`idle-chatter: platform ready; settling ${settleMs / 1000}s, then measuring ${measureMs / 1000}s\n`);
  await sleep(settleMs);
  // Backends report their counters at most about once a second (and idle ones within ~10 s), so a
  // long window keeps the edges' error small.
  const first = await sample();
  await sleep(measureMs);
  const last = await sample();
  const crashed = platform.crashed();
  if (crashed.length > 0) throw new Error(`services exited during the measurement:\n${crashed.join("\n")}`);

  const seconds = (last.at - first.at) / 1000;
  const rate = (service: string) => (last.tx.get(service)! - first.tx.get(service)!) / seconds;
  const rows: BenchRow[] = SERVICES.map((service) => ({
    case: `ours: ${service}`,
    value: rate(service),
    unit: "tx/s",
    connections: last.connections.get(service)!,
  }));
  const total = SERVICES.reduce((sum, service) => sum + rate(service), 0);
  const withoutOrchestration = total - rate("orchestration");
  rows.push({ case: "ours: whole platform", value: total, unit: "tx/s", seconds });
  rows.push({ case: "ours: platform without orchestration", value: withoutOrchestration, unit: "tx/s" });
  rows.push({ case: "goal (issue 15)", value: GOAL_TX_PER_S, unit: "tx/s" });
  report({
    name: "idle-chatter",
    quick,
    rows,
    ratio: total / GOAL_TX_PER_S,
    ratioMeaning: `idle platform's database transactions/s ÷ the ${GOAL_TX_PER_S}/s goal; lower is better, ≤ 1 meets it`,
  });
} finally {
  await platform?.stop().catch(() => {});
  await cleanUp();
}
