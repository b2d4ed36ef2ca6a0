// Issue 9 §2 "Faults": Postgres stops under a service that is being written to. The service must
// say so (GET /health/ready 503, gRPC health NOT_SERVING) without dying, and when Postgres is back
// it must become ready again by itself, with every acknowledged write still there, none twice, and
// new writes succeeding.
import { create } from "@bufbuild/protobuf";
import { Health, HealthCheckResponse_ServingStatus as Serving } from "@cloudforet/proto/grpc/health/v1/health_pb";
import { createTestDatabase, grpcJsClient, grpcJsUnary, type TestDatabase } from "@cloudforet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { killScenario, type KillScenario } from "./support/kill-scenarios";
import { pollUntil } from "./support/ports";
import { PrivateNats } from "./support/private-nats";
import { PrivatePostgres, type StopMode } from "./support/private-postgres";
import { startProcessPlatform, type ProcessPlatform } from "./support/process-platform";
import { countBy, streamEvents } from "./support/stream-events";
import { duplicates, Workload } from "./support/workload";

let identityDatabase: TestDatabase | undefined;
let pg: PrivatePostgres | undefined;
let nats: PrivateNats | undefined;
let platform: ProcessPlatform | undefined;
const measured: string[] = [];
/** Every run's workload: together they answered every job_id a cost event may carry. */
const scenarios: KillScenario[] = [];

beforeAll(async () => {
  try {
    // Identity stays on the shared Postgres: only cost's database goes away.
    identityDatabase = await createTestDatabase("faults_pg_identity");
    pg = await PrivatePostgres.create();
    nats = await PrivateNats.start();
    platform = await startProcessPlatform({
      services: ["cost"],
      env: { DATABASE_URL: identityDatabase.url, NATS_URL: nats.url },
      envFor: { cost: { DATABASE_URL: pg.url() } },
    });
  } catch (err) {
    await cleanup();
    throw err;
  }
}, 180_000);

async function cleanup(): Promise<void> {
  await platform?.close();
  await pg?.destroy();
  await nats?.destroy();
  await identityDatabase?.drop().catch(() => {});
}

afterAll(async () => {
  if (measured.length > 0) console.info(`Postgres restart under cost:\n  ${measured.join("\n  ")}`);
  await cleanup();
}, 60_000);

/** The port's overall gRPC health ("") and the liveness name, as a kubelet's grpc probe asks. */
async function grpcHealth(port: number, service: string): Promise<Serving> {
  const client = grpcJsClient(Health, `127.0.0.1:${port}`);
  try {
    const res = await grpcJsUnary<{ status: Serving }>(client, "check", create(Health.method.check.input, { service }));
    return res.status;
  } finally {
    client.close();
  }
}

describe("Postgres stopped and started again under a running cost service", () => {
  it.each<StopMode>(["fast", "immediate"])(
    "pg stop -m %s: unready while it is down, ready again by itself, no acknowledged write lost",
    async (mode) => {
      const cost = platform!.service("cost");
      const startsBefore = cost.starts;
      const scenario = killScenario("cost", { url: cost.url, token: platform!.token, workspaceId: "", run: `pg-${mode}` });
      const { subject } = scenario.events!;
      const workload = new Workload({ keys: scenario.keys, concurrency: 4, write: scenario.write });
      const finished = workload.run();

      await workload.whenAcked(Math.ceil(scenario.keys.length / 3));
      const ackedBeforeStop = workload.ackedKeys();
      await pg!.stop(mode);

      const unready = await cost.readiness();
      expect({ unready, running: cost.running }, cost.logs()).toEqual({ unready: 503, running: true });
      // gRPC health follows the periodic readiness probe (every 5 s), hence the poll.
      await pollUntil(async () => (await grpcHealth(cost.port, "")) === Serving.NOT_SERVING, "gRPC health NOT_SERVING", 30_000, 250);
      expect(await grpcHealth(cost.port, "liveness"), "liveness must not fail: a restart would not help").toBe(Serving.SERVING);
      expect(cost.running).toBe(true);

      await pg!.start();
      await pollUntil(async () => (await cost.readiness()) === 200, "cost ready again", 60_000, 250).catch((err) => {
        throw new Error(`${(err as Error).message}\n${cost.logs()}`);
      });
      await pollUntil(async () => (await grpcHealth(cost.port, "")) === Serving.SERVING, "gRPC health SERVING again", 30_000, 250);
      expect(cost.starts, "the service was restarted").toBe(startsBefore);
      expect(cost.running).toBe(true);

      const report = await finished;
      expect(report.failed, `writes that never succeeded\n${cost.logs()}`).toEqual([]);
      expect(report.retriedAttempts, "no write failed while Postgres was down").toBeGreaterThan(0);
      // A database outage is UNAVAILABLE (retryable), never INTERNAL (a bug, not retried by clients).
      // DeadlineExceeded is the client's own deadline: after an outage the driver reconnects with a
      // growing backoff (up to 20 s), and a call may wait that long for a connection.
      expect(report.retriedCodes.Unavailable, cost.logs()).toBeGreaterThan(0);
      expect(Object.keys(report.retriedCodes).filter((code) => code !== "Unavailable" && code !== "DeadlineExceeded"), cost.logs()).toEqual([]);

      const stored = await scenario.stored();
      expect(duplicates(stored), "rows stored twice").toEqual({});
      const storedSet = new Set(stored);
      const lost = [...ackedBeforeStop].flatMap(scenario.rowsOf!).filter((row) => !storedSet.has(row));
      expect(lost, "acknowledged before the stop and lost").toEqual([]);
      expect([...storedSet].sort()).toEqual(scenario.keys.flatMap(scenario.rowsOf!).sort());

      // Writes succeed again.
      expect(await scenario.write(`pg-${mode}-after`, 1)).toBe("created");

      // The batches' events (outbox rows committed with them) on the stream: never twice, never one
      // of a batch no answer named (a batch stored twice). Counted but not asserted: that all of
      // them arrive in the window. The relay backs off up to 30 s while Postgres is down, and the
      // postgres.js driver can leave a transaction hanging after a restart (patches/postgres@3.4.9
      // fixes the cases we could reproduce, not all); a hung relay pass keeps events in the outbox.
      scenarios.push(scenario);
      const jobOf = (e: { data: unknown }) => String((e.data as Record<string, unknown>).job_id);
      const keyOfEvent = (e: { data: unknown }) =>
        scenarios.map((sc) => sc.events!.keyOf(e.data as Record<string, unknown>)!).find((key) => !key.startsWith("unanswered")) ?? `unanswered job ${jobOf(e)}`;
      const ours = async () => (await streamEvents(nats!.url, [subject])).filter((e) => keyOfEvent(e).startsWith(`pg-${mode}-`));
      await pollUntil(async () => (await ours()).length >= scenario.keys.length + 1, "cost events on the stream", 40_000, 250).catch(() => {});
      const events = await streamEvents(nats!.url, [subject]);
      expect([...countBy(events, (e) => e.id)].filter(([, n]) => n > 1), "event ids on the stream twice").toEqual([]);
      expect([...countBy(events, jobOf)].filter(([, n]) => n > 1), "batches with two events").toEqual([]);
      expect(events.map(keyOfEvent).filter((key) => key.startsWith("unanswered")), "events of batches no answer named").toEqual([]);
      const delivered = (await ours()).length;

      measured.push(`${mode}: ${scenario.keys.length} batches, ${ackedBeforeStop.size} acked before the stop, ${report.retriedAttempts} attempts retried during the outage (${JSON.stringify(report.retriedCodes)}); ${delivered} of ${scenario.keys.length + 1} batch events on the stream within 40 s`);
    },
    210_000,
  );
});
