import { createTestDatabase, connectTestNats, testNatsUrl, type TestDatabase } from "@cloudforet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSequence, deleteWakeupConsumer, startOrchestration, waitForState, type TestOrchestration } from "./support";

// A long poll on one replica is woken by a task dispatched by another, over NATS.

/** The subject the replicas announce ready tasks on (services/orchestration/src/workers/task-wakeups.ts). */
const TASKS_READY_SUBJECT = "cloudforet.orchestration.worker_task.ready";

let database: TestDatabase;
let apiOnly: TestOrchestration;
let engine: TestOrchestration;
let nats: Awaited<ReturnType<typeof connectTestNats>>;

beforeAll(async () => {
  database = await createTestDatabase("orch_worker_replicas");
  const env = { NATS_URL: testNatsUrl() };
  // Replica A serves the API only, so every task is dispatched by replica B's engine.
  apiOnly = await startOrchestration({ ...env, ORCHESTRATION_ENGINE: "off" }, database);
  engine = await startOrchestration(env, database);
  nats = await connectTestNats();
});

afterAll(async () => {
  await nats?.close();
  await apiOnly?.close();
  await engine?.close();
  if (database) await deleteWakeupConsumer(database.url);
  await database?.drop();
});

describe("long polls across replicas", () => {
  it("a poller on replica A gets the task of an instance created on replica B, long before wait_ms", async () => {
    const handler = "cross_replica_job";
    const announced: string[] = [];
    const sub = nats.subscribe(TASKS_READY_SUBJECT);
    (async () => {
      for await (const msg of sub) announced.push(msg.string());
    })();
    const sequenceId = await createSequence(engine, "cross", [{ type: "step", id: "work", handler }]);
    const started = Date.now();
    const waiting = apiOnly.rest("POST", "/workers/tasks/poll", { handler_name: handler, worker_id: "on-a", wait_ms: 10_000, limit: 3 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const created = await engine.rest("POST", "/instances", { sequence_id: sequenceId, tenant_id: "acme", namespace: "default" });
    expect(created.status).toBe(201);
    const res = await waiting;
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject([{ instance_id: created.body.id, handler_name: handler, worker_id: "on-a", claim_epoch: 1 }]);
    expect(Date.now() - started).toBeLessThan(5_000);
    // B announced the dispatch on the bus (that is how A heard of it).
    expect(announced.some((text) => text.includes(handler) && text.includes("acme"))).toBe(true);
    sub.unsubscribe();

    expect((await apiOnly.rest("POST", `/workers/tasks/${res.body[0].id}/complete`, { worker_id: "on-a", claim_epoch: 1, output: { via: "a" } })).status).toBe(200);
    await waitForState(engine, created.body.id, ["completed"]);
  });
});
