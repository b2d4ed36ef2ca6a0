// InstanceService.Watch: ids mode (snapshot, changes, end), filter mode, changes made through the API
// (the slow re-read), cancellation on client abort, and notifications across replicas over NATS.
import type { ConnectError } from "@connectrpc/connect";
import { decodeError } from "@cloudforet/errors";
import { InstanceService, TaskInstance_State as S, type InstanceServiceWatchResponse } from "@cloudforet/proto/cloudforet/orchestration/v1/instance_pb";
import { createTestDatabase, testNatsUrl, type TestDatabase } from "@cloudforet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSequence, deleteWakeupConsumer, eventually, startOrchestration, type TestOrchestration } from "./support";

let orch: TestOrchestration;
let quick: string;

beforeAll(async () => {
  orch = await startOrchestration({ ORCHESTRATION_WATCH_REREAD_MS: "200" });
  quick = await createSequence(orch, "watch-quick", [
    { type: "step", id: "a", handler: "noop" },
    { type: "step", id: "b", handler: "log", params: { message: "done" } },
  ]);
}, 120_000);

afterAll(async () => {
  await orch?.close();
});

async function startInstance(target: TestOrchestration, sequenceId: string, namespace: string, delayMs = 0): Promise<string> {
  const res = await target.rest("POST", "/instances", {
    sequence_id: sequenceId,
    tenant_id: "acme",
    namespace,
    ...(delayMs > 0 ? { next_fire_at: new Date(Date.now() + delayMs).toISOString() } : {}),
  });
  if (res.status !== 201) throw new Error(`creating instance: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id;
}

/** Reads the whole stream (it must end by itself within `timeoutMs`). */
async function collect(stream: AsyncIterable<InstanceServiceWatchResponse>, timeoutMs = 20_000): Promise<InstanceServiceWatchResponse[]> {
  const events: InstanceServiceWatchResponse[] = [];
  const read = (async () => {
    for await (const event of stream) events.push(event);
  })();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([read, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`stream did not end; got ${JSON.stringify(events.map((e) => S[e.state]))}`)), timeoutMs)))]);
  clearTimeout(timer);
  return events;
}

/** Each event's previous_state is the state the one before it reported. */
function expectChained(events: InstanceServiceWatchResponse[]): void {
  for (let i = 1; i < events.length; i++) expect(events[i].previousState).toBe(events[i - 1].state);
}

const watchers = (target: TestOrchestration) => target.module.orchestration().stateChanges.watcherCount;

describe("with ids", () => {
  it("sends the snapshot, then every change, and ends when the instance is terminal", async () => {
    const id = await startInstance(orch, quick, "watch-ids", 1_500);
    const client = await orch.client(InstanceService);
    const events = await collect(client.watch({ ids: [id] }));
    expect(events[0]).toMatchObject({ id, initial: true, state: S.SCHEDULED, tenantId: "acme", namespace: "watch-ids", sequenceId: quick });
    expect(events[0].previousState).toBeUndefined();
    expect(events.slice(1).every((e) => !e.initial && e.id === id)).toBe(true);
    expect(events.map((e) => e.state)).toEqual([S.SCHEDULED, S.RUNNING, S.COMPLETED]);
    expectChained(events);
    expect(events[2].updatedAt).toBeDefined();
    await eventually(async () => (watchers(orch) === 0 ? true : undefined), 5_000, "the stream to unsubscribe");
  });

  it("follows several instances and ends when all are terminal; a terminal one only sends its snapshot", async () => {
    const done = await startInstance(orch, quick, "watch-many");
    await eventually(async () => ((await orch.rest("GET", `/instances/${done}`)).body.state === "completed" ? true : undefined));
    const client = await orch.client(InstanceService);
    expect(await collect(client.watch({ ids: [done] }))).toMatchObject([{ id: done, initial: true, state: S.COMPLETED }]);

    const [a, b] = [await startInstance(orch, quick, "watch-many", 1_000), await startInstance(orch, quick, "watch-many", 2_000)];
    const events = await collect(client.watch({ ids: [a, b, done] }));
    expect(events.filter((e) => e.initial).map((e) => e.id).sort()).toEqual([a, b, done].sort());
    for (const id of [a, b]) {
      const mine = events.filter((e) => e.id === id);
      expect(mine.map((e) => e.state)).toEqual([S.SCHEDULED, S.RUNNING, S.COMPLETED]);
      expectChained(mine);
    }
  });

  it("reports changes made through the API (pause, cancel) and ends at the cancel", async () => {
    const id = await startInstance(orch, quick, "watch-api", 3_600_000);
    const client = await orch.client(InstanceService);
    const reading = collect(client.watch({ ids: [id] }));
    await eventually(async () => (watchers(orch) > 0 ? true : undefined), 5_000, "the stream to open");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await orch.rest("PATCH", `/instances/${id}/state`, { state: "paused" })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect((await orch.rest("PATCH", `/instances/${id}/state`, { state: "cancelled" })).status).toBe(200);
    const events = await reading;
    expect(events.map((e) => e.state)).toEqual([S.SCHEDULED, S.PAUSED, S.CANCELLED]);
    expectChained(events);
  });

  it("ERROR_NOT_FOUND for an unknown id or another tenant's instance", async () => {
    const client = await orch.client(InstanceService);
    const unknown = await collect(client.watch({ ids: ["00000000-0000-4000-8000-000000000000"] })).catch((e: ConnectError) => e);
    expect(decodeError(unknown)).toMatchObject({ code: "ERROR_NOT_FOUND" });
    const mine = await startInstance(orch, quick, "watch-tenant", 3_600_000);
    const other = await orch.client(InstanceService, "globex");
    expect(decodeError(await collect(other.watch({ ids: [mine] })).catch((e: ConnectError) => e))).toMatchObject({ code: "ERROR_NOT_FOUND" });
    const badTenant = await collect(other.watch({ tenantId: "not a name" })).catch((e: ConnectError) => e);
    expect(decodeError(badTenant)).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "tenant_id" } });
  });

  it("breaking out of the loop cancels the call: the server drops the stream", async () => {
    const id = await startInstance(orch, quick, "watch-abort", 3_600_000);
    const client = await orch.client(InstanceService);
    await eventually(async () => (watchers(orch) === 0 ? true : undefined), 5_000, "no streams before");
    const controller = new AbortController();
    let seen = 0;
    try {
      for await (const event of client.watch({ ids: [id] }, { signal: controller.signal })) {
        expect(event.initial).toBe(true);
        seen += 1;
        expect(watchers(orch)).toBe(1);
        break;
      }
    } finally {
      controller.abort();
    }
    expect(seen).toBe(1);
    await eventually(async () => (watchers(orch) === 0 ? true : undefined), 5_000, "the server to see the abort");
  });
});

describe("without ids", () => {
  it("streams the tenant's changes matching namespace and states, and no others", async () => {
    const client = await orch.client(InstanceService);
    const controller = new AbortController();
    const events: InstanceServiceWatchResponse[] = [];
    const reading = (async () => {
      try {
        for await (const event of client.watch({ namespace: "watch-filter", states: [S.COMPLETED] }, { signal: controller.signal })) {
          events.push(event);
          if (events.length === 3) break;
        }
      } catch (err) {
        if (!controller.signal.aborted) throw err;
      }
    })();
    await eventually(async () => (watchers(orch) > 0 ? true : undefined), 5_000, "the stream to open");
    const ids = [await startInstance(orch, quick, "watch-filter"), await startInstance(orch, quick, "watch-filter"), await startInstance(orch, quick, "watch-filter")];
    const elsewhere = await startInstance(orch, quick, "watch-elsewhere");
    await Promise.race([reading, new Promise((_, reject) => setTimeout(() => reject(new Error(`got ${events.length} events`)), 20_000))]);
    controller.abort();
    expect(events.map((e) => e.id).sort()).toEqual(ids.sort());
    expect(events.every((e) => e.state === S.COMPLETED && e.namespace === "watch-filter" && !e.initial && e.previousState === S.RUNNING)).toBe(true);
    expect(events.map((e) => e.id)).not.toContain(elsewhere);
    await eventually(async () => (watchers(orch) === 0 ? true : undefined), 5_000, "the stream to end");
  });

  it("also reports instances created after it opened whose changes only the re-read sees", async () => {
    const client = await orch.client(InstanceService);
    const controller = new AbortController();
    const events: InstanceServiceWatchResponse[] = [];
    const reading = (async () => {
      try {
        for await (const event of client.watch({ namespace: "watch-reread" }, { signal: controller.signal })) {
          events.push(event);
          if (event.state === S.PAUSED) break;
        }
      } catch (err) {
        if (!controller.signal.aborted) throw err;
      }
    })();
    await eventually(async () => (watchers(orch) > 0 ? true : undefined), 5_000, "the stream to open");
    const id = await startInstance(orch, quick, "watch-reread", 3_600_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await orch.rest("PATCH", `/instances/${id}/state`, { state: "paused" });
    await Promise.race([reading, new Promise((_, reject) => setTimeout(() => reject(new Error(`got ${JSON.stringify(events)}`)), 20_000))]);
    controller.abort();
    expect(events.map((e) => [e.id, e.state])).toEqual([
      [id, S.SCHEDULED],
      [id, S.PAUSED],
    ]);
    expect(events[1].previousState).toBe(S.SCHEDULED);
  });
});

describe("across replicas (NATS)", () => {
  let database: TestDatabase;
  let api: TestOrchestration;
  let engine: TestOrchestration;
  let sequenceId: string;

  beforeAll(async () => {
    database = await createTestDatabase("orch_watch_replicas");
    // The API replica re-reads only every minute: what it streams here comes from the engine's notifications.
    api = await startOrchestration({ NATS_URL: testNatsUrl(), ORCHESTRATION_ENGINE: "off", ORCHESTRATION_WATCH_REREAD_MS: "60000" }, database);
    engine = await startOrchestration({ NATS_URL: testNatsUrl() }, database);
    sequenceId = await createSequence(api, "watch-remote", [{ type: "step", id: "a", handler: "noop" }]);
  }, 120_000);

  afterAll(async () => {
    await engine?.close();
    await api?.close();
    if (database) await deleteWakeupConsumer(database.url);
    await database?.drop();
  });

  it("a stream on a replica without an engine sees the engine replica's changes at once", async () => {
    const id = await startInstance(api, sequenceId, "remote", 1_500);
    const client = await api.client(InstanceService);
    const events = await collect(client.watch({ ids: [id] }), 20_000);
    expect(events.map((e) => e.state)).toEqual([S.SCHEDULED, S.RUNNING, S.COMPLETED]);
    expectChained(events);
  }, 40_000);
});
