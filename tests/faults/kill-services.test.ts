// Issue 9 §2 "Faults": kill -9 each service while clients write to it, start it again on the same
// port and database, let the clients retry, and check that no acknowledged write was lost and no
// write was stored twice. The seven services run as separate processes, as in tests/e2e.
import { WorkspaceService } from "@cloudforet/proto/cloudforet/identity/v1/workspace_pb";
import { createTestDatabase, type TestDatabase } from "@cloudforet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clientFor } from "./support/clients";
import { killScenario, type KillScenario } from "./support/kill-scenarios";
import { PrivateNats } from "./support/private-nats";
import { startProcessPlatform, type ProcessPlatform } from "./support/process-platform";
import { countBy, streamEvents } from "./support/stream-events";
import { duplicates, Workload } from "./support/workload";
import { pollUntil } from "./support/ports";

const SERVICES = ["identity", "inventory", "cloud-service", "cost", "monitoring", "notification", "orchestration"] as const;
const WORKSPACE = "ws-faults";

let database: TestDatabase | undefined;
let nats: PrivateNats | undefined;
let platform: ProcessPlatform | undefined;
let scenarios: Record<string, KillScenario>;
const measured: string[] = [];

beforeAll(async () => {
  try {
    database = await createTestDatabase("faults_kill");
    // A NATS of our own: the services' durable consumers never see another test file's events.
    nats = await PrivateNats.start();
    platform = await startProcessPlatform({ services: [...SERVICES], env: { DATABASE_URL: database.url, NATS_URL: nats.url } });
    const { token } = platform;
    await clientFor(WorkspaceService, platform.service("identity").url, token).create({ workspaceId: WORKSPACE, name: WORKSPACE });
    scenarios = {};
    for (const name of SERVICES) scenarios[name] = killScenario(name, { url: platform.service(name).url, token, workspaceId: WORKSPACE, run: "kill" });
  } catch (err) {
    await cleanup();
    throw err;
  }
}, 180_000);

async function cleanup(): Promise<void> {
  await platform?.close();
  await nats?.destroy();
  await database?.drop().catch(() => {});
}

afterAll(async () => {
  if (measured.length > 0) console.info(`kill -9 mid-workload:\n  ${measured.join("\n  ")}`);
  await cleanup();
}, 60_000);

describe("kill -9 of a service in the middle of a write workload loses nothing and duplicates nothing", () => {
  it.each(SERVICES)(
    "%s",
    async (name) => {
      const service = platform!.service(name);
      const scenario = scenarios[name];
      await scenario.prepare?.();
      const workload = new Workload({ keys: scenario.keys, concurrency: 8, write: scenario.write, landed: scenario.landed });
      const finished = workload.run();

      // Kill once a third of the writes are acknowledged: the writers are busy, calls are in flight.
      await workload.whenAcked(Math.ceil(scenario.keys.length / 3));
      const ackedBeforeKill = workload.ackedKeys();
      const inFlightAtKill = workload.inFlightKeys();
      await service.kill();
      // Same port, same database; the clients keep retrying until it answers again.
      service.start();
      await service.waitReady();
      const report = await finished;

      expect(report.failed, `writes that never succeeded\n${service.logs()}`).toEqual([]);
      expect(ackedBeforeKill.size).toBeGreaterThan(0);
      expect(inFlightAtKill.size, "no call was in flight when the process died").toBeGreaterThan(0);
      expect(report.retriedAttempts, "the kill did not interrupt the workload").toBeGreaterThan(0);

      const stored = await scenario.stored();
      expect(duplicates(stored), "writes stored more than once").toEqual({});
      const storedSet = new Set(stored);
      const rowsOf = scenario.rowsOf ?? ((key: string) => [key]);
      const lost = [...ackedBeforeKill].flatMap(rowsOf).filter((row) => !storedSet.has(row));
      expect(lost, "writes acknowledged before the kill and lost").toEqual([]);
      // After the retries every write is there exactly once, and nothing else is.
      expect([...storedSet].sort()).toEqual(scenario.keys.flatMap(rowsOf).sort());

      if (scenario.events) {
        // The outbox row of each write was committed with it; after the kill the restarted relay
        // publishes what the dead one had not (a re-publish is deduped by Nats-Msg-Id).
        const { subject, keyOf } = scenario.events;
        const keyed = async () => (await streamEvents(nats!.url, [subject])).map((e) => ({ id: e.id, key: keyOf(e.data as Record<string, unknown>) })).filter((e) => e.key !== undefined);
        await pollUntil(async () => new Set((await keyed()).map((e) => e.key)).size >= scenario.keys.length, `${name}'s events on the stream`, 30_000, 250).catch(() => {});
        const events = await keyed();
        expect([...countBy(events, (e) => e.id)].filter(([, n]) => n > 1), "event ids on the stream twice").toEqual([]);
        expect([...countBy(events, (e) => e.key!)].filter(([, n]) => n > 1), "writes with more than one event").toEqual([]);
        expect(events.map((e) => e.key).sort(), "one event per write").toEqual([...scenario.keys].sort());
      }

      const recovered = [...report.acked.values()].filter((w) => w.outcome === "existing").length;
      measured.push(
        `${name}: ${scenario.keys.length} ${scenario.writes}; ${ackedBeforeKill.size} acked before the kill, ${inFlightAtKill.size} in flight, ` +
          `${report.retriedAttempts} attempts retried ${JSON.stringify(report.retriedCodes)}, ${recovered} found already committed on retry`,
      );
    },
    150_000,
  );
});
