// What recording change history costs BatchUpsert (issue 16: at most 20% slower). cloud-service runs
// in this process, on a fresh database each time: as shipped, and with the history switched off
// through the module's internal option (cloudServiceModuleWith({history: false}), not an env var).
// One after the other (the in-process bus holds one sweep per process): a warm-up, then rounds of
// ours, baseline, baseline, ours, so drift of the shared machine weighs on both sides alike. Each run loads the same resources three
// ways: all new (every item a CREATE with all its keys), all again unchanged (diffed, nothing
// recorded), all again with two data keys and a tag changed (every item an UPDATE of three keys).
// 20,000 resources; `--quick`: 5,000. ratio = time with history / time without, over all loads.
import { createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import postgres from "postgres";
import { cloudServiceModuleWith } from "@cloudforet/cloud-service";
import { identityModule } from "@cloudforet/identity";
import { CloudServiceService } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_pb";
import { AuthService } from "@cloudforet/proto/cloudforet/identity/v1/auth_pb";
import { startService, type RunningService } from "@cloudforet/runtime";
import { createTestDatabase, type TestDatabase } from "@cloudforet/testing";
import { isQuick, report, type BenchRow } from "./support/report";
import { benchResource } from "./support/resources";

const quick = isQuick();
const total = process.env.BENCH_TOTAL ? Number(process.env.BENCH_TOTAL) : quick ? 5_000 : 20_000;
const perMessage = 1_000;
const password = "Bench-Passw0rd!";

type Load = "create" | "unchanged" | "changed";
const itemFor = (i: number, load: Load) => {
  const item = benchResource(i);
  if (load !== "changed") return item;
  return { ...item, data: { ...item.data, state: item.data.state === "ON" ? "OFF" : "ON", cpu_cores: item.data.cpu_cores + 1 }, tags: { ...item.tags, patched: "yes" } };
};
const messagesFor = (load: Load) =>
  Array.from({ length: Math.ceil(total / perMessage) }, (_, m) => ({
    items: Array.from({ length: Math.min(perMessage, total - m * perMessage) }, (_, k) => itemFor(m * perMessage + k, load)),
  }));

const databases: TestDatabase[] = [];
const services: RunningService[] = [];
const baseEnv = {
  LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "silent",
  CLOUDFORET_ADMIN_PASSWORD: password,
  IDENTITY_SECRET_KEYS: `bench:${Buffer.alloc(32, 9).toString("base64")}`,
  IDENTITY_ADDR: "127.0.0.1:0",
  CLOUD_SERVICE_ADDR: "127.0.0.1:0",
};
try {
  const identityDb = await createTestDatabase("bench_history_identity");
  databases.push(identityDb);
  const identity = await startService(identityModule, { ...baseEnv, DATABASE_URL: identityDb.url });
  services.push(identity);
  const { token } = await createClient(AuthService, createGrpcTransport({ baseUrl: identity.url })).login({ domainId: "domain-default", userId: "admin", password });
  const bearer: Interceptor = (next) => (req) => {
    req.header.set("authorization", `Bearer ${token}`);
    return next(req);
  };
  const loads: Load[] = ["create", "unchanged", "changed"];
  const messages = new Map(loads.map((load) => [load, messagesFor(load)]));
  const rows: BenchRow[] = [];

  /** One cloud-service on a new database through the three loads; seconds per load and changes recorded. */
  const run = async (history: boolean, label: string) => {
    const database = await createTestDatabase(`bench_history_${history ? "on" : "off"}`);
    databases.push(database);
    const service = await startService(cloudServiceModuleWith({ history }), { ...baseEnv, DATABASE_URL: database.url, IDENTITY_URL: identity.url });
    let seconds = 0;
    try {
      const client = createClient(CloudServiceService, createGrpcTransport({ baseUrl: service.url, interceptors: [bearer] }));
      for (const load of loads) {
        const started = performance.now();
        const answer = await client.batchUpsert(
          (async function* () {
            yield* messages.get(load)!;
          })(),
        );
        const took = (performance.now() - started) / 1000;
        if (answer.failedCount > 0 || answer.createdCount + answer.updatedCount !== total) throw new Error(`${label} ${load}: ${JSON.stringify(answer.errors.slice(0, 3))}`);
        seconds += took;
        rows.push({ case: `${label}: ${load}`, value: total / took, unit: "items/s", seconds: took });
      }
    } finally {
      await service.close();
    }
    const sql = postgres(database.url, { max: 1, onnotice: () => {} });
    const [{ count }] = await sql<{ count: number }[]>`select count(*)::int as count from cloud_service.change_history`;
    await sql.end();
    // Gone before the next run, so no run shares the server with an earlier one's vacuum.
    await database.drop();
    databases.splice(databases.indexOf(database), 1);
    return { seconds, count };
  };

  // Warm-up (code paths compiled, connections open), not counted; then rounds of A B B A, so drift
  // of the shared machine weighs on both sides alike (the full run takes two rounds: one pair of
  // runs moves by ±10% on this machine).
  await run(true, "warm-up");
  rows.length = 0;
  const ours: { seconds: number; count: number }[] = [];
  const baseline: { seconds: number; count: number }[] = [];
  for (let round = 1; round <= (quick ? 1 : 2); round++) {
    const again = round > 1 ? `, round ${round}` : "";
    ours.push(await run(true, `ours (with history)${again}`));
    baseline.push(await run(false, `baseline (history off)${again}`));
    baseline.push(await run(false, `baseline (history off), again${again}`));
    ours.push(await run(true, `ours (with history), again${again}`));
  }
  // Creates record one change each (no rules), unchanged loads none, changed loads one each.
  for (const one of ours) if (one.count !== 2 * total) throw new Error(`expected ${2 * total} changes recorded, found ${one.count}`);
  if (baseline.some((one) => one.count !== 0)) throw new Error("the baseline recorded history");
  rows.push({ case: "changes recorded per run (with history)", value: ours[0].count, unit: "rows" });
  const seconds = (runs: { seconds: number }[]) => runs.reduce((sum, one) => sum + one.seconds, 0);
  report({
    name: "history-overhead",
    quick,
    rows,
    ratio: seconds(ours) / seconds(baseline),
    ratioMeaning: "BatchUpsert time with change history / without, same loads in the same run; target ≤ 1.2",
  });
} finally {
  for (const service of services.reverse()) await service.close();
  for (const database of databases) await database.drop();
}
