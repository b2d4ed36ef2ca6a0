import { Code } from "@connectrpc/connect";
import { decodeError } from "@cloudforet/errors";
import { WorkerService } from "@cloudforet/proto/cloudforet/orchestration/v1/worker_pb";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSequence, eventually, outputsOf, startOrchestration, waitForState, type TestOrchestration } from "./support";

// Seed 002 "External Workers" over REST and gRPC: shapes, errors, claim epochs, the reaper and long polls.

const HEARTBEAT_TIMEOUT_MS = 1_500;
const MISSING_TASK = "00000000-0000-4000-8000-000000000000";

let orch: TestOrchestration;
let sql: postgres.Sql;
let handlerSeq = 0;

const failure = (promise: Promise<unknown>) => promise.then(() => expect.fail("expected an error"), (err) => decodeError(err));

beforeAll(async () => {
  orch = await startOrchestration({ ORCHESTRATION_WORKER_HEARTBEAT_TIMEOUT_MS: String(HEARTBEAT_TIMEOUT_MS) });
  sql = postgres(orch.database.url, { max: 2, onnotice: () => {} });
});

afterAll(async () => {
  await sql?.end();
  await orch?.close();
});

/** A one-step sequence whose step goes to external workers of a handler name no other test uses. */
async function workerSequence(params: Record<string, unknown> = { template: "welcome", to: "{{ context.data.email }}" }, extra: unknown[] = []) {
  const handler = `email_send_${++handlerSeq}`;
  const id = await createSequence(orch, handler, [{ type: "step", id: "send_welcome", handler, params, timeout: "30s" }, ...extra]);
  return { handler, sequenceId: id };
}

async function createInstance(sequenceId: string, data: Record<string, unknown> = { email: "john@acme.com", name: "John" }): Promise<string> {
  const res = await orch.rest("POST", "/instances", { sequence_id: sequenceId, tenant_id: "acme", namespace: "default", context: { data } });
  expect(res.status).toBe(201);
  return res.body.id;
}

const poll = (body: Record<string, unknown>, as?: string | null) => orch.rest("POST", "/workers/tasks/poll", body, { as });

/** Polls (without waiting) until the instance's task is dispatched and claimed by `workerId`. */
async function claimOne(handler: string, workerId: string): Promise<any> {
  return eventually(async () => (await poll({ handler_name: handler, worker_id: workerId })).body[0], 10_000, `a ${handler} task`);
}

async function taskState(id: string): Promise<{ state: string; worker_id: string | null; claim_epoch: number }> {
  const [row] = await sql`select state, worker_id, claim_epoch from orchestration.worker_tasks where id = ${id}`;
  return row as any;
}

async function reapedCount(): Promise<number> {
  const text = (await orch.rest("GET", "/metrics")).body as string;
  const match = /^orch8_worker_tasks_reaped_total(?:\{[^}]*\})? (\d+)$/m.exec(text);
  return match ? Number(match[1]) : 0;
}

describe("REST: seed 002 External Workers", () => {
  it("poll claims tasks with the documented JSON, respects limit and answers [] when none", async () => {
    const { handler, sequenceId } = await workerSequence();
    const ids = [await createInstance(sequenceId), await createInstance(sequenceId), await createInstance(sequenceId)];
    await eventually(async () => ((await sql`select count(*)::int as n from orchestration.worker_tasks where handler_name = ${handler}`)[0].n === 3 ? true : undefined));
    const first = await poll({ handler_name: handler, worker_id: "node-worker-42", limit: 2 });
    expect(first.status).toBe(200);
    expect(first.body).toHaveLength(2);
    expect(first.body[0]).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      instance_id: expect.any(String),
      block_id: "send_welcome",
      handler_name: handler,
      params: { template: "welcome", to: "john@acme.com" },
      context: { data: { email: "john@acme.com", name: "John" }, config: {} },
      attempt: 0,
      timeout_ms: 30000,
      state: "claimed",
      worker_id: "node-worker-42",
      claimed_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      heartbeat_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      completed_at: null,
      output: null,
      error_message: null,
      error_retryable: null,
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      claim_epoch: 1,
    });
    const second = await poll({ handler_name: handler, worker_id: "node-worker-43" });
    expect(second.body).toHaveLength(1); // limit defaults to 1
    expect(new Set([...first.body, ...second.body].map((t: any) => t.instance_id))).toEqual(new Set(ids));
    expect(await poll({ handler_name: handler, worker_id: "node-worker-42", limit: 10 })).toEqual({ status: 200, body: [] });
  });

  it("complete answers 200 {}, stores the output and moves the instance on; repeating it is a no-op", async () => {
    const { handler, sequenceId } = await workerSequence({}, [{ type: "step", id: "after", handler: "log", params: { message: "{{ outputs.send_welcome.email_id }}" } }]);
    const instanceId = await createInstance(sequenceId);
    const task = await claimOne(handler, "node-worker-42");
    const done = await orch.rest("POST", `/workers/tasks/${task.id}/complete`, { worker_id: "node-worker-42", output: { email_id: "msg-abc123", delivered: true } });
    expect(done).toEqual({ status: 200, body: {} });
    await waitForState(orch, instanceId, ["completed"]);
    expect(await outputsOf(orch, instanceId)).toEqual({ send_welcome: { email_id: "msg-abc123", delivered: true }, after: { message: "msg-abc123" } });
    expect(await taskState(task.id)).toEqual({ state: "completed", worker_id: "node-worker-42", claim_epoch: 1 });
    expect(await orch.rest("POST", `/workers/tasks/${task.id}/complete`, { worker_id: "node-worker-42", output: {} })).toEqual({ status: 200, body: {} });
  });

  it("fail answers 200 {}; a permanent failure fails a step-only instance", async () => {
    const { handler, sequenceId } = await workerSequence({});
    const instanceId = await createInstance(sequenceId);
    const task = await claimOne(handler, "node-worker-42");
    expect(await orch.rest("POST", `/workers/tasks/${task.id}/fail`, { worker_id: "node-worker-42", message: "SMTP connection refused", retryable: false })).toEqual({ status: 200, body: {} });
    const failed = await waitForState(orch, instanceId, ["failed"]);
    expect(failed.context.runtime.error).toBe("SMTP connection refused");
  });

  it("heartbeat answers 200 {} and moves heartbeat_at", async () => {
    const { handler, sequenceId } = await workerSequence({});
    await createInstance(sequenceId);
    const task = await claimOne(handler, "node-worker-42");
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await orch.rest("POST", `/workers/tasks/${task.id}/heartbeat`, { worker_id: "node-worker-42" })).toEqual({ status: 200, body: {} });
    const [row] = await sql`select heartbeat_at, claimed_at from orchestration.worker_tasks where id = ${task.id}`;
    expect(row.heartbeat_at.getTime()).toBeGreaterThan(row.claimed_at.getTime());
  });

  it("answers 401 without a token, 400 for missing fields, 404 for unknown tasks and 409 for another worker", async () => {
    const { handler, sequenceId } = await workerSequence({});
    await createInstance(sequenceId);
    const task = await claimOne(handler, "node-worker-42");
    for (const path of ["/workers/tasks/poll", `/workers/tasks/${task.id}/complete`, `/workers/tasks/${task.id}/fail`, `/workers/tasks/${task.id}/heartbeat`]) {
      const res = await orch.rest("POST", path, { handler_name: handler, worker_id: "node-worker-42", message: "x" }, { as: null });
      expect(res.status, path).toBe(401);
      expect(res.body).toEqual({ error: expect.any(String) });
    }
    expect(await poll({ worker_id: "w" })).toEqual({ status: 400, body: { error: "Missing required field: handler_name" } });
    expect(await poll({ handler_name: handler })).toEqual({ status: 400, body: { error: "Missing required field: worker_id" } });
    expect(await poll({ handler_name: handler, worker_id: "w", limit: 101 })).toMatchObject({ status: 400, body: { error: expect.stringContaining("limit") } });
    for (const waitMs of [-1, 30_001, 1.5, "10"]) {
      expect(await poll({ handler_name: handler, worker_id: "w", wait_ms: waitMs })).toEqual({ status: 400, body: { error: "wait_ms must be an integer from 0 to 30000" } });
    }
    for (const verb of ["complete", "fail", "heartbeat"]) {
      expect(await orch.rest("POST", `/workers/tasks/${task.id}/${verb}`, { message: "x" })).toEqual({ status: 400, body: { error: "Missing required field: worker_id" } });
      const unknown = await orch.rest("POST", `/workers/tasks/${MISSING_TASK}/${verb}`, { worker_id: "node-worker-42", message: "x" });
      expect(unknown).toEqual({ status: 404, body: { error: "worker task not found" } });
      expect((await orch.rest("POST", `/workers/tasks/not-a-uuid/${verb}`, { worker_id: "node-worker-42", message: "x" })).status).toBe(404);
      const intruder = await orch.rest("POST", `/workers/tasks/${task.id}/${verb}`, { worker_id: "intruder", message: "x" });
      expect(intruder).toEqual({ status: 409, body: { error: `task is claimed by node-worker-42 (claim 1); not claimed by intruder` } });
    }
    expect((await orch.rest("POST", `/workers/tasks/${task.id}/fail`, { worker_id: "node-worker-42" })).body).toEqual({ error: "Missing required field: message" });
    expect((await orch.rest("POST", `/workers/tasks/${task.id}/complete`, { worker_id: "node-worker-42", claim_epoch: "1" })).body).toEqual({ error: "claim_epoch must be an integer from 0 to 2147483647" });
    expect((await orch.rest("POST", `/workers/tasks/${task.id}/complete`, { worker_id: "node-worker-42", claim_epoch: 1 })).status).toBe(200);
  });

  it("a worker only sees its own tenant's tasks; another tenant's task is not found", async () => {
    const { handler, sequenceId } = await workerSequence({});
    await createInstance(sequenceId);
    await eventually(async () => ((await sql`select 1 from orchestration.worker_tasks where handler_name = ${handler}`).length > 0 ? true : undefined));
    expect(await poll({ handler_name: handler, worker_id: "spy" }, "globex")).toEqual({ status: 200, body: [] });
    const task = await claimOne(handler, "node-worker-42");
    expect((await orch.rest("POST", `/workers/tasks/${task.id}/complete`, { worker_id: "node-worker-42" }, { as: "globex" })).status).toBe(404);
    expect((await orch.rest("POST", `/workers/tasks/${task.id}/heartbeat`, { worker_id: "node-worker-42" }, { as: "globex" })).status).toBe(404);
  });
});

describe("claim epochs and the reaper", () => {
  it("a reaped task still pending refuses every report; re-claimed by the same worker id, the old epoch is refused", async () => {
    const { handler, sequenceId } = await workerSequence({});
    const instanceId = await createInstance(sequenceId);
    const reapedBefore = await reapedCount();
    const first = await claimOne(handler, "w-a");
    expect(first.claim_epoch).toBe(1);
    // No heartbeat: the reaper puts it back after the timeout.
    await eventually(async () => ((await taskState(first.id)).state === "pending" ? true : undefined), 10_000, "the reaper");
    expect(await taskState(first.id)).toEqual({ state: "pending", worker_id: null, claim_epoch: 1 });
    expect(await reapedCount()).toBeGreaterThan(reapedBefore);
    for (const body of [{ worker_id: "w-a" }, { worker_id: "w-a", claim_epoch: 1 }, { worker_id: "w-b" }]) {
      const res = await orch.rest("POST", `/workers/tasks/${first.id}/complete`, { ...body, output: {} });
      expect(res).toEqual({ status: 409, body: { error: `task is pending; not claimed by ${body.worker_id}${body.claim_epoch ? ` (claim ${body.claim_epoch})` : ""}` } });
      expect((await orch.rest("POST", `/workers/tasks/${first.id}/heartbeat`, body)).status).toBe(409);
      expect((await orch.rest("POST", `/workers/tasks/${first.id}/fail`, { ...body, message: "late" })).status).toBe(409);
    }
    const again = (await poll({ handler_name: handler, worker_id: "w-a" })).body[0];
    expect(again).toMatchObject({ id: first.id, worker_id: "w-a", claim_epoch: 2 });
    expect((await orch.rest("POST", `/workers/tasks/${first.id}/complete`, { worker_id: "w-a", claim_epoch: 1, output: { from: "old" } })).status).toBe(409);
    expect((await orch.rest("POST", `/workers/tasks/${first.id}/heartbeat`, { worker_id: "w-a", claim_epoch: 1 })).status).toBe(409);
    expect((await orch.rest("POST", `/workers/tasks/${first.id}/heartbeat`, { worker_id: "w-a", claim_epoch: 2 })).status).toBe(200);
    expect((await orch.rest("POST", `/workers/tasks/${first.id}/complete`, { worker_id: "w-a", claim_epoch: 2, output: { from: "new" } })).status).toBe(200);
    expect((await orch.rest("POST", `/workers/tasks/${first.id}/complete`, { worker_id: "w-a", claim_epoch: 2, output: {} })).status).toBe(200); // repeat: no-op
    expect((await orch.rest("POST", `/workers/tasks/${first.id}/complete`, { worker_id: "w-a", claim_epoch: 1, output: {} })).status).toBe(409);
    await waitForState(orch, instanceId, ["completed"]);
    expect(await outputsOf(orch, instanceId)).toEqual({ send_welcome: { from: "new" } });
  });

  it("a reaped task claimed by another worker refuses the old holder", async () => {
    const { handler, sequenceId } = await workerSequence({});
    const instanceId = await createInstance(sequenceId);
    const stale = await claimOne(handler, "w-a");
    // w-b waits while w-a holds the task; the reaper hands it over.
    const fresh = (await poll({ handler_name: handler, worker_id: "w-b", wait_ms: 10_000 })).body[0];
    expect(fresh).toMatchObject({ id: stale.id, worker_id: "w-b", claim_epoch: 2 });
    expect(await orch.rest("POST", `/workers/tasks/${stale.id}/complete`, { worker_id: "w-a", claim_epoch: 1, output: {} })).toEqual({
      status: 409,
      body: { error: "task is claimed by w-b (claim 2); not claimed by w-a (claim 1)" },
    });
    expect((await orch.rest("POST", `/workers/tasks/${stale.id}/complete`, { worker_id: "w-a", output: {} })).status).toBe(409);
    expect((await orch.rest("POST", `/workers/tasks/${stale.id}/fail`, { worker_id: "w-a", message: "late" })).status).toBe(409);
    expect((await orch.rest("POST", `/workers/tasks/${stale.id}/complete`, { worker_id: "w-b", claim_epoch: 2, output: { by: "w-b" } })).status).toBe(200);
    await waitForState(orch, instanceId, ["completed"]);
    expect(await outputsOf(orch, instanceId)).toEqual({ send_welcome: { by: "w-b" } });
  });

  it("heartbeats keep a claim past the timeout", async () => {
    const { handler, sequenceId } = await workerSequence({});
    await createInstance(sequenceId);
    const task = await claimOne(handler, "w-steady");
    const until = Date.now() + HEARTBEAT_TIMEOUT_MS * 2;
    while (Date.now() < until) {
      expect((await orch.rest("POST", `/workers/tasks/${task.id}/heartbeat`, { worker_id: "w-steady", claim_epoch: 1 })).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, HEARTBEAT_TIMEOUT_MS / 5));
    }
    expect(await taskState(task.id)).toEqual({ state: "claimed", worker_id: "w-steady", claim_epoch: 1 });
  });
});

describe("long poll", () => {
  it("an idle poller gets a task dispatched while it waits, long before wait_ms", async () => {
    const { handler, sequenceId } = await workerSequence({});
    const started = Date.now();
    const waiting = poll({ handler_name: handler, worker_id: "idle", wait_ms: 10_000, limit: 5 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const instanceId = await createInstance(sequenceId);
    const res = await waiting;
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject([{ instance_id: instanceId, worker_id: "idle", claim_epoch: 1 }]);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("answers [] after wait_ms when nothing comes", async () => {
    const started = Date.now();
    expect(await poll({ handler_name: "nothing_comes", worker_id: "idle", wait_ms: 800 })).toEqual({ status: 200, body: [] });
    expect(Date.now() - started).toBeGreaterThanOrEqual(750);
  });

  it("a REST client that disconnects ends its wait and claims nothing", async () => {
    const { handler, sequenceId } = await workerSequence({});
    const gone = new AbortController();
    const abandoned = fetch(`${orch.restUrl}/workers/tasks/poll`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${await orch.token()}` },
      body: JSON.stringify({ handler_name: handler, worker_id: "gone", wait_ms: 20_000 }),
      signal: gone.signal,
    }).catch((err) => err);
    await new Promise((resolve) => setTimeout(resolve, 300));
    gone.abort();
    expect(await abandoned).toBeInstanceOf(Error);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await createInstance(sequenceId);
    const [task] = await eventually(async () => {
      const rows = await sql`select id from orchestration.worker_tasks where handler_name = ${handler}`;
      return rows.length > 0 ? rows : undefined;
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await taskState(task.id)).toEqual({ state: "pending", worker_id: null, claim_epoch: 0 });
  });

  it("a completion whose instance cannot move on still lands: the report is applied alone and the engine retries the instance", async () => {
    // The next step's task cannot be inserted (a constraint only this test adds), so the
    // transaction that would report, take the result in and dispatch fails as a whole: the worker
    // is still answered 200 with its result stored, and the instance moves on once it can.
    const handler = `advance_fails_${++handlerSeq}`;
    const blocked = `${handler}_next`;
    const sequenceId = await createSequence(orch, handler, [
      { type: "step", id: "first", handler },
      { type: "step", id: "second", handler: blocked },
    ]);
    await sql.unsafe(`alter table orchestration.worker_tasks add constraint ${blocked} check (handler_name <> '${blocked}') not valid`);
    try {
      const id = await createInstance(sequenceId);
      const [task] = (await orch.rest("POST", "/workers/tasks/poll", { handler_name: handler, worker_id: "w", wait_ms: 10_000 })).body;
      const done = await orch.rest("POST", `/workers/tasks/${task.id}/complete`, { worker_id: "w", claim_epoch: task.claim_epoch, output: { landed: true } });
      expect(done.status).toBe(200);
      expect(await taskState(task.id)).toMatchObject({ state: "completed", worker_id: "w" });
      expect(await outputsOf(orch, id)).toEqual({ first: { landed: true } });
    } finally {
      await sql.unsafe(`alter table orchestration.worker_tasks drop constraint ${blocked}`);
    }
    const [next] = (await orch.rest("POST", "/workers/tasks/poll", { handler_name: blocked, worker_id: "w", wait_ms: 10_000 })).body;
    expect(next).toMatchObject({ block_id: "second" });
  });

  it("complete moves the instance on at once, without waiting for the scheduler's tick", async () => {
    // Its own database: no other engine (with a short tick) may pick the instance up.
    const slow = await startOrchestration({ ORCHESTRATION_TICK_MS: "5000" });
    try {
      const handler = "prompt_job";
      const sequenceId = await createSequence(slow, "prompt", [
        { type: "step", id: "work", handler },
        { type: "step", id: "after", handler: "transform", params: { expression: "1 + 1" } },
      ]);
      const waiting = slow.rest("POST", "/workers/tasks/poll", { handler_name: handler, worker_id: "quick", wait_ms: 10_000 });
      const created = await slow.rest("POST", "/instances", { sequence_id: sequenceId, tenant_id: "acme", namespace: "default" });
      const [task] = (await waiting).body;
      expect(task).toMatchObject({ instance_id: created.body.id, handler_name: handler });
      const completedAt = Date.now();
      expect((await slow.rest("POST", `/workers/tasks/${task.id}/complete`, { worker_id: "quick", claim_epoch: task.claim_epoch, output: { ok: true } })).status).toBe(200);
      await waitForState(slow, created.body.id, ["completed"], 10_000);
      expect(Date.now() - completedAt).toBeLessThan(2_000);
      expect(await outputsOf(slow, created.body.id)).toEqual({ work: { ok: true }, after: { result: 2 } });
    } finally {
      await slow.close();
    }
  });
});

describe("gRPC WorkerService", () => {
  it("polls (long) and completes with claim epochs; errors carry the taxonomy codes", async () => {
    const workers = await orch.client(WorkerService);
    const { handler, sequenceId } = await workerSequence({ n: 1 });
    const waiting = workers.pollTasks({ handlerName: handler, workerId: "w-grpc", limit: 5, waitMs: 10_000 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const instanceId = await createInstance(sequenceId);
    const { tasks } = await waiting;
    expect(tasks).toHaveLength(1);
    expect(tasks[0]).toMatchObject({ instanceId, blockId: "send_welcome", handlerName: handler, params: { n: 1 }, workerId: "w-grpc", claimEpoch: 1, attempt: 0 });
    const taskId = tasks[0].id;
    expect(await failure(workers.completeTask({ taskId, workerId: "w-grpc", claimEpoch: 7, output: {} }))).toMatchObject({ code: "ERROR_CONFLICT", grpcCode: Code.AlreadyExists, metadata: { task_id: taskId } });
    expect(await failure(workers.heartbeatTask({ taskId, workerId: "intruder" }))).toMatchObject({ code: "ERROR_CONFLICT" });
    expect(await failure(workers.failTask({ taskId: MISSING_TASK, workerId: "w-grpc", message: "x" }))).toMatchObject({ code: "ERROR_NOT_FOUND", grpcCode: Code.NotFound });
    expect(await failure(workers.pollTasks({ handlerName: handler, workerId: "w", waitMs: 30_001 }))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "wait_ms" } });
    expect(await failure(workers.pollTasks({ handlerName: handler, workerId: "" }))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "worker_id" } });
    await workers.heartbeatTask({ taskId, workerId: "w-grpc", claimEpoch: 1 });
    await workers.completeTask({ taskId, workerId: "w-grpc", claimEpoch: 1, output: { ok: true } });
    await waitForState(orch, instanceId, ["completed"]);
    const started = Date.now();
    expect((await workers.pollTasks({ handlerName: handler, workerId: "w-grpc", waitMs: 500 })).tasks).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);

    const failing = await createInstance(sequenceId);
    const [next] = (await workers.pollTasks({ handlerName: handler, workerId: "w-grpc", waitMs: 10_000 })).tasks;
    expect(next).toMatchObject({ instanceId: failing, claimEpoch: 1 });
    await workers.failTask({ taskId: next.id, workerId: "w-grpc", claimEpoch: 1, message: "card declined", retryable: false });
    expect((await waitForState(orch, failing, ["failed"])).context.runtime.error).toBe("card declined");
  });

  it("a cancelled long poll ends its wait and claims nothing", async () => {
    const workers = await orch.client(WorkerService);
    const { handler, sequenceId } = await workerSequence({});
    const cancel = new AbortController();
    const abandoned = workers.pollTasks({ handlerName: handler, workerId: "w-cancel", waitMs: 20_000 }, { signal: cancel.signal }).catch((err) => decodeError(err));
    await new Promise((resolve) => setTimeout(resolve, 300));
    cancel.abort();
    expect(await abandoned).toMatchObject({ grpcCode: Code.Canceled });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await createInstance(sequenceId);
    const [task] = await eventually(async () => {
      const rows = await sql`select id from orchestration.worker_tasks where handler_name = ${handler}`;
      return rows.length > 0 ? rows : undefined;
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await taskState(task.id)).toEqual({ state: "pending", worker_id: null, claim_epoch: 0 });
  });
});
