import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { InstanceService, TaskInstance_State } from "@cloudforet/proto/cloudforet/orchestration/v1/instance_pb";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSequence, eventually, startOrchestration, waitForState, type TestOrchestration } from "./support";

// Outgoing webhooks for every instance state change, whoever makes it (the engine, PATCH /state,
// retry, bulk state, and their gRPC twins), with the delivery row committed in the statement that
// changes the state — against a real engine, Postgres and a local HTTP receiver.

let orch: TestOrchestration;
let sql: postgres.Sql;
let receiver: { url: string; received: { path: string; body: any }[]; close(): Promise<void> };

const step = (id: string, handler: string, params: Record<string, unknown> = {}) => ({ type: "step", id, handler, params });
const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString();

/** A receiver answering 204 to everything, recording each request. */
async function startReceiver(): Promise<typeof receiver> {
  const received: { path: string; body: any }[] = [];
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    received.push({ path: req.url ?? "/", body: JSON.parse(Buffer.concat(chunks).toString()) });
    res.writeHead(204).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

async function subscribe(path: string, eventTypes: string[]): Promise<string> {
  const res = await orch.rest("POST", "/webhooks/subscriptions", { url: `${receiver.url}${path}`, event_types: eventTypes });
  expect(res.status).toBe(201);
  return res.body.id;
}

/** An instance that is not due for an hour: it stays scheduled until someone changes it. */
async function parked(sequenceId: string): Promise<string> {
  const res = await orch.rest("POST", "/instances", { sequence_id: sequenceId, tenant_id: "acme", namespace: "default", next_fire_at: inAnHour() });
  expect(res.status).toBe(201);
  return res.body.id;
}

/** The delivery rows of these instances (for one subscription: the tests' subscriptions share the tenant "acme"). */
const deliveryRows = (instanceIds: string[], subscriptionId?: string) =>
  sql<{ event_type: string; instance_id: string; subscription_id: string; payload: any }[]>`
    select event_type, instance_id, subscription_id, payload from orchestration.webhook_deliveries
    where instance_id in ${sql(instanceIds)} ${subscriptionId ? sql`and subscription_id = ${subscriptionId}` : sql``}
    order by created_at, instance_id`;

const receivedAt = (path: string, instanceIds: string[]) => receiver.received.filter((r) => r.path === path && instanceIds.includes(r.body.instance_id));

/** Waits for `n` requests at `path` for these instances, then one dispatcher poll more, and returns them all (so a duplicate would show). */
async function settle(path: string, instanceIds: string[], n: number) {
  await eventually(async () => (receivedAt(path, instanceIds).length >= n ? true : undefined), 10_000, `${n} deliveries at ${path}`);
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  return receivedAt(path, instanceIds);
}

beforeAll(async () => {
  orch = await startOrchestration();
  sql = postgres(orch.database.url, { max: 2, onnotice: () => {} });
  receiver = await startReceiver();
});

afterAll(async () => {
  await receiver?.close();
  await sql?.end();
  await orch?.close();
});

describe("webhooks for every state change", () => {
  it("PATCH /state cancel: one delivery, committed with the change (the row exists when PATCH returns)", async () => {
    const subscription = await subscribe("/patch", ["instance.cancelled"]);
    const sequenceId = await createSequence(orch, "webhook-patch", [step("s", "noop")]);
    const id = await parked(sequenceId);
    expect(await deliveryRows([id])).toEqual([]); // creating is no state change

    const res = await orch.rest("PATCH", `/instances/${id}/state`, { state: "cancelled" });
    expect(res.status).toBe(200);
    // Read straight from the table as soon as PATCH answered: no sender step queued it afterwards.
    const rows = await deliveryRows([id], subscription);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ event_type: "instance.cancelled", instance_id: id, subscription_id: subscription });
    expect(rows[0].payload).toEqual({
      event_type: "instance.cancelled",
      instance_id: id,
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      data: { tenant_id: "acme", namespace: "default", sequence_id: sequenceId, state: "cancelled", previous_state: "scheduled" },
    });

    const got = await settle("/patch", [id], 1);
    expect(got).toHaveLength(1);
    expect(got[0].body).toEqual(rows[0].payload);
    // An illegal change changes nothing and queues nothing.
    expect((await orch.rest("PATCH", `/instances/${id}/state`, { state: "scheduled" })).status).toBe(400);
    expect(await deliveryRows([id], subscription)).toHaveLength(1);
  }, 30_000);

  it("bulk cancel of 3: one delivery per instance, from one statement", async () => {
    const subscription = await subscribe("/bulk", ["instance.cancelled"]);
    const sequenceId = await createSequence(orch, "webhook-bulk", [step("s", "noop")]);
    const ids = [await parked(sequenceId), await parked(sequenceId), await parked(sequenceId)];

    const res = await orch.rest("PATCH", "/instances/bulk/state", { filter: { tenant_id: "acme", sequence_id: sequenceId }, state: "cancelled" });
    expect(res.body).toEqual({ count: 3 });
    const rows = await deliveryRows(ids, subscription);
    expect(rows.map((r) => r.instance_id).sort()).toEqual([...ids].sort());
    expect(rows.every((r) => r.event_type === "instance.cancelled" && r.payload.data.previous_state === "scheduled")).toBe(true);

    const got = await settle("/bulk", ids, 3);
    expect(got.map((r) => r.body.instance_id).sort()).toEqual([...ids].sort());
  }, 30_000);

  it("retry of a failed instance: instance.scheduled (from failed), then the engine's instance.running, once each", async () => {
    const sequenceId = await createSequence(orch, "webhook-retry", [step("gate", "assert", { condition: "ok" })]);
    const res = await orch.rest("POST", "/instances", { sequence_id: sequenceId, tenant_id: "acme", namespace: "default", context: { data: {} } });
    const id = res.body.id as string;
    await waitForState(orch, id, ["failed"]);
    const subscription = await subscribe("/retry", ["instance.scheduled", "instance.running"]);
    expect((await orch.rest("PATCH", `/instances/${id}/context`, { context: { data: { ok: true } } })).status).toBe(200);

    expect((await orch.rest("POST", `/instances/${id}/retry`)).body).toEqual({ id, state: "scheduled" });
    // The engine may already have claimed it (instance.running) by the time the rows are read.
    const scheduled = (await deliveryRows([id], subscription)).filter((row) => row.event_type === "instance.scheduled");
    expect(scheduled).toHaveLength(1);
    expect(scheduled[0]).toMatchObject({ event_type: "instance.scheduled", payload: { data: { state: "scheduled", previous_state: "failed" } } });
    await waitForState(orch, id, ["completed"]);

    // Deliveries are sent concurrently: their order of arrival is not the order of the changes.
    const got = await settle("/retry", [id], 2);
    expect(got.map((r) => `${r.body.event_type} from ${r.body.data.previous_state}`).sort()).toEqual(["instance.running from scheduled", "instance.scheduled from failed"]);
  }, 30_000);

  it("the engine's own transitions are delivered once each (no second, after-the-fact enqueue)", async () => {
    await subscribe("/engine", []); // every event
    const sequenceId = await createSequence(orch, "webhook-engine", [step("s", "noop")]);
    const res = await orch.rest("POST", "/instances", { sequence_id: sequenceId, tenant_id: "acme", namespace: "default" });
    const id = res.body.id as string;
    await waitForState(orch, id, ["completed"]);
    const got = await settle("/engine", [id], 2);
    expect(got.map((r) => `${r.body.event_type} from ${r.body.data.previous_state}`).sort()).toEqual(["instance.completed from running", "instance.running from scheduled"]);
  }, 30_000);

  it("gRPC UpdateState, BulkUpdateState and Retry deliver like their REST twins", async () => {
    await subscribe("/grpc", ["instance.cancelled", "instance.scheduled"]);
    const instances = await orch.client(InstanceService);
    const sequenceId = await createSequence(orch, "webhook-grpc", [step("gate", "assert", { condition: "ok" })]);
    const one = await parked(sequenceId);
    expect((await instances.updateState({ id: one, state: TaskInstance_State.CANCELLED })).state).toBe(TaskInstance_State.CANCELLED);
    const two = [await parked(sequenceId), await parked(sequenceId)];
    expect((await instances.bulkUpdateState({ filter: { tenantId: "acme", sequenceId, states: [TaskInstance_State.SCHEDULED] }, state: TaskInstance_State.CANCELLED })).count).toBe(2);
    const failing = (await orch.rest("POST", "/instances", { sequence_id: sequenceId, tenant_id: "acme", namespace: "default", context: { data: {} } })).body.id as string;
    await waitForState(orch, failing, ["failed"]);
    await instances.retry({ id: failing });

    const got = await settle("/grpc", [one, ...two, failing], 4);
    expect(got.map((r) => `${r.body.instance_id} ${r.body.event_type}`).sort()).toEqual(
      [`${one} instance.cancelled`, `${two[0]} instance.cancelled`, `${two[1]} instance.cancelled`, `${failing} instance.scheduled`].sort(),
    );
  }, 30_000);

  it("the delivery row is part of the state change's transaction: visible inside it, gone with its rollback", async () => {
    const subscription = await subscribe("/tx", ["instance.paused"]);
    const sequenceId = await createSequence(orch, "webhook-tx", [step("s", "noop")]);
    const id = await parked(sequenceId);
    await expect(
      sql.begin(async (tx) => {
        await tx`update orchestration.instances set state = 'paused' where id = ${id}`;
        const inside = await tx`select subscription_id, event_type, status from orchestration.webhook_deliveries where instance_id = ${id} and subscription_id = ${subscription}`;
        expect(inside).toEqual([{ subscription_id: subscription, event_type: "instance.paused", status: "pending" }]);
        throw new Error("crash before commit");
      }),
    ).rejects.toThrow("crash before commit");
    expect(await deliveryRows([id])).toEqual([]); // nor for the other subscriptions of the tenant
    expect((await orch.rest("GET", `/instances/${id}`)).body.state).toBe("scheduled");
    // A statement that writes the state without changing it queues nothing.
    await sql`update orchestration.instances set state = state, updated_at = now() where id = ${id}`;
    expect(await deliveryRows([id])).toEqual([]);
    // Committed, even by a writer outside the service, the change is delivered by the sender (once).
    await sql`update orchestration.instances set state = 'paused' where id = ${id}`;
    const got = await settle("/tx", [id], 1);
    expect(got.map((r) => `${r.body.event_type} from ${r.body.data.previous_state}`)).toEqual(["instance.paused from scheduled"]);
  }, 30_000);
});
