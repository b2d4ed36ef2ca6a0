// The SDK's cron schedule, trigger, recurrent request and instance watch managers against a running
// orchestration service (token-only mode: no identity needed).
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { TaskInstance_State as S, type InstanceServiceWatchResponse } from "@cloudforet/proto/cloudforet/orchestration/v1/instance_pb";
import { Recurrence_ScheduleType, RecurrentRequest_Status } from "@cloudforet/proto/cloudforet/orchestration/v1/recurrent_request_pb";
import { APIError, Client, ConflictError, NotFoundError, ValidationError } from "@cloudforet/sdk/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startHttpServer, startOrchestration, type TestHttpServer, type TestOrchestration } from "../orchestration/support";
import { rejection } from "./support";

let orch: TestOrchestration;
let client: Client;
let hits: TestHttpServer;
let sequenceId: string;

beforeAll(async () => {
  hits = await startHttpServer(() => ({ status: 200, body: { ok: true } }));
  orch = await startOrchestration({ ORCHESTRATION_CRON_TICK_MS: "50", ORCHESTRATION_WATCH_REREAD_MS: "200" });
  client = new Client({ token: await orch.token(), urls: { orchestration: orch.service.url } });
  sequenceId = await client.orchestration.sequences.create({ namespace: "sdk", name: "sdk-managers", blocks: [{ type: "step", id: "a", handler: "noop" }] });
}, 120_000);

afterAll(async () => {
  await orch?.close();
  await hits?.close();
});

describe("cron schedules", () => {
  it("create, get, list pages, update through the handle, delete", async () => {
    const cron = client.orchestration.cronSchedules;
    const schedule = await cron.create({ namespace: "sdk", sequenceId, cronExpr: "0 0 9 * * MON-FRI *", timezone: "America/New_York", metadata: { by: "sdk" } });
    expect(schedule.data).toMatchObject({ cronExpr: "0 0 9 * * MON-FRI *", timezone: "America/New_York", enabled: true, metadata: { by: "sdk" } });
    expect(schedule.data.nextFireAt).toBeDefined();
    for (let i = 0; i < 2; i++) await cron.create({ namespace: "sdk", sequenceId, cronExpr: `0 ${i} 0 * * * *` });
    const listed = await cron.list({ sequenceId }, { pageSize: 1 }).all();
    expect(listed.map((s) => s.id)).toContain(schedule.id);
    expect(listed).toHaveLength(3);
    await schedule.disable();
    expect(schedule.data.enabled).toBe(false);
    expect((await cron.get(schedule.id)).data.enabled).toBe(false);
    const bad = await rejection(cron.update(schedule.id, { cronExpr: "nope" }));
    expect(bad).toBeInstanceOf(ValidationError);
    expect(bad.details).toMatchObject({ parameter: "cron_expr" });
    await schedule.delete();
    expect(await rejection(cron.get(schedule.id))).toBeInstanceOf(NotFoundError);
  });
});

describe("triggers", () => {
  it("create, get, list, fire (with dedupe), disable, delete", async () => {
    const triggers = client.orchestration.triggers;
    const trigger = await triggers.create({ slug: "sdk-order", namespace: "sdk", sequenceId });
    expect(trigger.id).toBe("sdk-order");
    expect(trigger.data).toMatchObject({ slug: "sdk-order", sequenceId, enabled: true });
    expect((await triggers.get("sdk-order")).data.sequenceName).toBe("sdk-managers");
    await triggers.create({ slug: "sdk-other", namespace: "sdk", sequenceName: "sdk-managers" });
    expect((await triggers.list({ namespace: "sdk" }, { pageSize: 1 }).all()).map((t) => t.id)).toEqual(["sdk-order", "sdk-other"]);

    const fired = await trigger.fire({ data: { order: 7 } });
    expect(fired.deduped).toBe(false);
    const instance = await client.orchestration.instances.get(fired.instanceId);
    expect((await instance.wait({ timeoutMs: 15_000 })).context).toMatchObject({ data: { order: 7 } });
    const first = await triggers.fire("sdk-order", { dedupeKey: "once" });
    const again = await triggers.fire("sdk-order", { dedupeKey: "once" });
    expect(again).toMatchObject({ instanceId: first.instanceId, deduped: true });

    await trigger.update({ enabled: false });
    expect(trigger.data.enabled).toBe(false);
    expect(await rejection(trigger.fire())).toBeInstanceOf(ConflictError);
    await trigger.delete();
    expect(await rejection(triggers.fire("sdk-order"))).toBeInstanceOf(NotFoundError);
  });
});

describe("recurrent requests", () => {
  it("create, list, pause, trigger (an instance handle), resume fires on schedule, delete", async () => {
    const requests = client.orchestration.recurrentRequests;
    const request = await requests.create({
      name: "sdk-recurrent",
      status: RecurrentRequest_Status.PAUSED,
      recurrence: { scheduleType: Recurrence_ScheduleType.INTERVAL, intervalSeconds: 1 },
      target: { url: `${hits.url}/sdk`, method: "POST", headers: { authorization: "Bearer sdk-SECRET" } },
    });
    expect(request.data).toMatchObject({ name: "sdk-recurrent", status: RecurrentRequest_Status.PAUSED, runCount: 0 });
    expect(request.data.target?.sealedHeaders).toEqual(["authorization"]);
    expect(JSON.stringify(request.toJSON(), (_k, v) => (typeof v === "bigint" ? String(v) : v))).not.toContain("SECRET");
    expect((await requests.list({ name: "sdk-recurrent" }).all()).map((r) => r.id)).toEqual([request.id]);

    const run = await request.trigger();
    expect((await run.wait({ timeoutMs: 15_000 })).state).toBe(S.COMPLETED);
    expect(hits.requests.filter((r) => r.path === "/sdk")).toHaveLength(1);
    expect((await request.refresh()).data.runCount).toBe(1);

    await request.resume();
    expect(request.data.status).toBe(RecurrentRequest_Status.ACTIVE);
    await eventually(async () => (hits.requests.filter((r) => r.path === "/sdk").length >= 3 ? true : undefined), 15_000, "scheduled fires");
    await request.pause();
    expect(request.data.nextRunAt).toBeUndefined();

    const invalid = await rejection(requests.create({ recurrence: { scheduleType: Recurrence_ScheduleType.CRON, cronExpression: "bad" }, target: { url: hits.url } }));
    expect(invalid).toBeInstanceOf(ValidationError);
    expect(invalid.details).toMatchObject({ parameter: "recurrence.cron_expression" });
    await request.delete();
    expect(await rejection(requests.get(request.id))).toBeInstanceOf(NotFoundError);
  }, 30_000);
});

describe("instance watch", () => {
  it("handle.watch() streams the instance's changes and ends when it is terminal", async () => {
    const instance = await client.orchestration.instances.create({ sequenceId, namespace: "sdk-watch", nextFireAt: timestampFromDate(new Date(Date.now() + 1_000)) });
    const events: InstanceServiceWatchResponse[] = [];
    for await (const event of instance.watch()) events.push(event);
    expect(events.map((e) => [e.state, e.initial])).toEqual([
      [S.SCHEDULED, true],
      [S.RUNNING, false],
      [S.COMPLETED, false],
    ]);
    expect(events[2].previousState).toBe(S.RUNNING);
  });

  it("instances.watch() by filter; breaking out of the loop cancels the server's stream", async () => {
    const watchers = () => orch.module.orchestration().stateChanges.watcherCount;
    const seen: InstanceServiceWatchResponse[] = [];
    const reading = (async () => {
      for await (const event of client.orchestration.instances.watch({ namespace: "sdk-filter", states: [S.COMPLETED] })) {
        seen.push(event);
        break;
      }
    })();
    await eventually(async () => (watchers() > 0 ? true : undefined), 5_000, "the stream to open");
    const started = await client.orchestration.instances.create({ sequenceId, namespace: "sdk-filter" });
    await reading;
    expect(seen).toMatchObject([{ id: started.id, state: S.COMPLETED, namespace: "sdk-filter" }]);
    await eventually(async () => (watchers() === 0 ? true : undefined), 5_000, "the server to drop the stream");
  });
});
