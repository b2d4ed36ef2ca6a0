import { ConnectError } from "@connectrpc/connect";
import { decodeError } from "@cloudforet/errors";
import { Trigger_TriggerType, TriggerService } from "@cloudforet/proto/cloudforet/orchestration/v1/trigger_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSequence, eventually, startOrchestration, type TestOrchestration } from "./support";

// Trigger CRUD (slug, sequence, enabled, type) over REST and TriggerService, and firing.

let orch: TestOrchestration;
let first: string;
let second: string;

beforeAll(async () => {
  orch = await startOrchestration();
  first = await createSequence(orch, "trigger-first", [{ type: "step", id: "a", handler: "noop" }]);
  second = await createSequence(orch, "trigger-second", [{ type: "step", id: "b", handler: "noop" }]);
}, 60_000);

afterAll(async () => {
  await orch?.close();
});

const ISO = expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/);

describe("REST /triggers", () => {
  it("POST creates (201), GET reads, GET lists by slug", async () => {
    const created = await orch.rest("POST", "/triggers", { slug: "on-b", tenant_id: "acme", namespace: "default", sequence_name: "trigger-second" });
    expect(created).toEqual({
      status: 201,
      body: { slug: "on-b", tenant_id: "acme", namespace: "default", sequence_id: null, sequence_name: "trigger-second", enabled: true, trigger_type: "event", created_at: ISO, updated_at: ISO },
    });
    expect((await orch.rest("POST", "/triggers", { slug: "on-a", namespace: "default", sequence_id: first, trigger_type: "webhook" })).body).toMatchObject({
      slug: "on-a",
      sequence_id: first,
      sequence_name: "trigger-first",
      trigger_type: "webhook",
    });
    expect((await orch.rest("GET", "/triggers/on-b")).body).toEqual(created.body);
    const list = await orch.rest("GET", "/triggers?tenant_id=acme");
    expect(list.status).toBe(200);
    expect(list.body.map((t: any) => t.slug)).toEqual(["on-a", "on-b"]);
    expect((await orch.rest("GET", "/triggers?trigger_type=webhook")).body.map((t: any) => t.slug)).toEqual(["on-a"]);
  });

  it("PUT changes the fields given; a sequence_id replaces the sequence_name binding", async () => {
    await orch.rest("POST", "/triggers", { slug: "on-put", namespace: "default", sequence_name: "trigger-first" });
    const disabled = await orch.rest("PUT", "/triggers/on-put", { enabled: false });
    expect(disabled.body).toMatchObject({ enabled: false, sequence_name: "trigger-first", sequence_id: null });
    const pinned = await orch.rest("PUT", "/triggers/on-put", { sequence_id: second });
    expect(pinned.body).toMatchObject({ sequence_id: second, sequence_name: "trigger-second", enabled: false });
    const byName = await orch.rest("PUT", "/triggers/on-put", { sequence_name: "trigger-first", enabled: true, trigger_type: "webhook" });
    expect(byName.body).toMatchObject({ sequence_id: null, sequence_name: "trigger-first", enabled: true, trigger_type: "webhook" });
    expect((await orch.rest("PUT", "/triggers/on-put", { sequence_name: "nope" })).status).toBe(404);
    expect((await orch.rest("PUT", "/triggers/on-put", { sequence_id: first, sequence_name: "trigger-first" })).status).toBe(400);
    expect((await orch.rest("PUT", "/triggers/on-put", { enabled: "maybe" })).status).toBe(400);
    expect((await orch.rest("PUT", "/triggers/missing", { enabled: true })).status).toBe(404);
  });

  it("DELETE is 204, then the trigger is gone and firing it is 404", async () => {
    await orch.rest("POST", "/triggers", { slug: "on-del", namespace: "default", sequence_id: first });
    expect(await orch.rest("DELETE", "/triggers/on-del")).toEqual({ status: 204, body: undefined });
    expect((await orch.rest("GET", "/triggers/on-del")).status).toBe(404);
    expect((await orch.rest("DELETE", "/triggers/on-del")).status).toBe(404);
    expect((await orch.rest("POST", "/triggers/on-del/fire", {})).status).toBe(404);
  });

  it("POST /triggers/{slug}/fire spawns an instance with context.data; a dedupe key returns the first", async () => {
    await orch.rest("POST", "/triggers", { slug: "on-fire", namespace: "default", sequence_id: first });
    const fired = await orch.rest("POST", "/triggers/on-fire/fire", { data: { order: 7 }, meta: { via: "test" }, dedupe_key: "order-7" });
    expect(fired).toEqual({ status: 201, body: { instance_id: expect.any(String), sequence_name: "trigger-first", deduped: false } });
    const again = await orch.rest("POST", "/triggers/on-fire/fire", { data: { order: 7 }, dedupe_key: "order-7" });
    expect(again.body).toEqual({ instance_id: fired.body.instance_id, sequence_name: "trigger-first", deduped: true });
    const instance = await eventually(async () => {
      const res = await orch.rest("GET", `/instances/${fired.body.instance_id}`);
      return res.body.state === "completed" ? res.body : undefined;
    });
    expect(instance.context.data).toEqual({ order: 7 });
    expect(instance.metadata).toMatchObject({ via: "test", source: "trigger:on-fire" });
    await orch.rest("PUT", "/triggers/on-fire", { enabled: false });
    expect((await orch.rest("POST", "/triggers/on-fire/fire", {})).status).toBe(409);
  });

  it("validation and tenants", async () => {
    expect((await orch.rest("POST", "/triggers", { slug: "Bad Slug", namespace: "default", sequence_id: first })).status).toBe(400);
    expect((await orch.rest("POST", "/triggers", { slug: "x", namespace: "default" })).status).toBe(400);
    expect((await orch.rest("POST", "/triggers", { slug: "x", namespace: "default", sequence_id: first, trigger_type: "cron" })).status).toBe(400);
    expect((await orch.rest("POST", "/triggers", { slug: "on-a", namespace: "default", sequence_id: first })).status).toBe(409);
    expect((await orch.rest("GET", "/triggers?tenant_id=globex")).body).toEqual([]);
    expect((await orch.rest("GET", "/triggers/on-a", undefined, { as: "globex" })).status).toBe(404);
    expect((await orch.rest("DELETE", "/triggers/on-a", undefined, { as: "globex" })).status).toBe(404);
    expect((await orch.rest("GET", "/triggers", undefined, { as: "globex" })).body).toEqual([]);
    expect((await orch.rest("GET", "/triggers", undefined, { as: null })).status).toBe(401);
  });
});

describe("TriggerService (gRPC)", () => {
  it("Create, Get, List, Update, Delete, Fire", async () => {
    const client = await orch.client(TriggerService);
    const created = await client.create({ slug: "grpc-t", namespace: "default", sequenceId: first, triggerType: Trigger_TriggerType.EVENT });
    expect(created).toMatchObject({ slug: "grpc-t", tenantId: "acme", sequenceId: first, sequenceName: "trigger-first", enabled: true, triggerType: Trigger_TriggerType.EVENT });
    expect((await client.get({ slug: "grpc-t" })).slug).toBe("grpc-t");
    const list = await client.list({ enabled: true });
    expect(list.totalCount).toBe(list.results.length);
    expect(list.results.map((t) => t.slug)).toContain("grpc-t");
    const updated = await client.update({ slug: "grpc-t", sequenceName: "trigger-second", enabled: true });
    expect(updated).toMatchObject({ sequenceId: "", sequenceName: "trigger-second" });
    const fired = await client.fire({ slug: "grpc-t", data: { n: 1 }, dedupeKey: "k1" });
    expect(fired).toMatchObject({ sequenceName: "trigger-second", deduped: false });
    expect((await client.fire({ slug: "grpc-t", data: { n: 1 }, dedupeKey: "k1" })).instanceId).toBe(fired.instanceId);
    const badScope = await client.fire({ slug: "grpc-t", dedupeKey: "k2", dedupeScope: "parent" }).catch((err: ConnectError) => err);
    expect(decodeError(badScope)).toMatchObject({ code: "ERROR_INVALID_PARAMETER" });
    await client.delete({ slug: "grpc-t" });
    const gone = await client.get({ slug: "grpc-t" }).catch((err: ConnectError) => err);
    expect(decodeError(gone)).toMatchObject({ code: "ERROR_NOT_FOUND" });
    // tenant_id names another Orch8 tenant of our domain: it has no triggers.
    expect((await client.list({ tenantId: "globex" })).results).toEqual([]);
  });
});
