import { Code, ConnectError } from "@connectrpc/connect";
import { decodeError } from "@cloudforet/errors";
import { InstanceService, TaskInstance_Priority, TaskInstance_State } from "@cloudforet/proto/cloudforet/orchestration/v1/instance_pb";
import { SequenceService } from "@cloudforet/proto/cloudforet/orchestration/v1/sequence_pb";
import { WorkerService } from "@cloudforet/proto/cloudforet/orchestration/v1/worker_pb";
import type { Client } from "@connectrpc/connect";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startOrchestration, type TestOrchestration } from "./support";

// The same operations over gRPC/Connect on the service port: one engine, two front doors.

let orch: TestOrchestration;
let sequences: Client<typeof SequenceService>;
let instances: Client<typeof InstanceService>;
let workers: Client<typeof WorkerService>;

const failure = (promise: Promise<unknown>) => promise.then(() => expect.fail("expected an error"), (err) => decodeError(err));

beforeAll(async () => {
  orch = await startOrchestration();
  sequences = await orch.client(SequenceService);
  instances = await orch.client(InstanceService);
  workers = await orch.client(WorkerService);
});

afterAll(async () => {
  await orch?.close();
});

describe("SequenceService", () => {
  it("creates, gets and gets by name; the REST API sees the same sequence", async () => {
    const { id } = await sequences.create({ namespace: "default", name: "grpc-seq", version: 1, blocks: [{ type: "step", id: "a", handler: "noop" }] });
    const got = await sequences.get({ id });
    expect(got).toMatchObject({ id, tenantId: "acme", namespace: "default", name: "grpc-seq", version: 1, blocks: [{ type: "step", id: "a", handler: "noop" }] });
    await sequences.create({ namespace: "default", name: "grpc-seq", version: 2, blocks: [{ type: "step", id: "b", handler: "noop" }] });
    expect((await sequences.getByName({ namespace: "default", name: "grpc-seq" })).version).toBe(2);
    expect((await sequences.getByName({ namespace: "default", name: "grpc-seq", version: 1 })).id).toBe(id);
    expect((await orch.rest("GET", `/sequences/${id}`)).body.name).toBe("grpc-seq");
  });

  it("maps errors onto the taxonomy: invalid definitions, duplicates, unknown ids, other tenants", async () => {
    expect(await failure(sequences.create({ namespace: "default", name: "bad", blocks: [{ type: "nope", id: "x" }] }))).toMatchObject({
      code: "ERROR_INVALID_PARAMETER",
      grpcCode: Code.InvalidArgument,
      metadata: { parameter: "blocks[0].type", block_id: "x" },
    });
    expect(await failure(sequences.create({ namespace: "default", name: "grpc-seq", version: 1, blocks: [{ type: "step", id: "a", handler: "noop" }] }))).toMatchObject({ code: "ERROR_CONFLICT", grpcCode: Code.AlreadyExists });
    expect(await failure(sequences.get({ id: "00000000-0000-4000-8000-000000000000" }))).toMatchObject({ code: "ERROR_NOT_FOUND" });
    expect(await failure(sequences.getByName({ tenantId: "globex", namespace: "default", name: "x" }))).toMatchObject({ code: "ERROR_NOT_FOUND" });
    expect(await failure(sequences.getByName({ tenantId: "no spaces", namespace: "default", name: "x" }))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "tenant_id" } });
  });

  it("refuses a call without a token", async () => {
    const anonymous = createClient(SequenceService, createConnectTransport({ baseUrl: orch.service.url, httpVersion: "2" }));
    const err = await anonymous.get({ id: "x" }).catch((e) => ConnectError.from(e));
    expect((err as ConnectError).code).toBe(Code.Unauthenticated);
  });
});

describe("InstanceService", () => {
  let sequenceId: string;
  let parkedId: string;

  beforeAll(async () => {
    sequenceId = (await sequences.create({ namespace: "default", name: "grpc-run", blocks: [{ type: "step", id: "hello", handler: "log", params: { message: "hi {{ context.data.who }}" } }] })).id;
    parkedId = (await sequences.create({ namespace: "default", name: "grpc-parked", blocks: [{ type: "step", id: "w", handler: "nobody_polls" }] })).id;
  });

  it("creates an instance that runs; Get and GetOutputs show it", async () => {
    const created = await instances.create({ sequenceId, namespace: "default", priority: TaskInstance_Priority.HIGH, context: { data: { who: "grpc" } }, idempotencyKey: "k1" });
    expect(created.deduplicated).toBe(false);
    expect(await instances.create({ sequenceId, namespace: "default", idempotencyKey: "k1" })).toMatchObject({ id: created.id, deduplicated: true });
    const done = await eventually(async () => {
      const got = await instances.get({ id: created.id });
      return got.state === TaskInstance_State.COMPLETED ? got : undefined;
    });
    expect(done).toMatchObject({ tenantId: "acme", priority: TaskInstance_Priority.HIGH, timezone: "UTC", idempotencyKey: "k1", context: { data: { who: "grpc" } } });
    const { outputs } = await instances.getOutputs({ id: created.id });
    expect(outputs).toMatchObject([{ instanceId: created.id, blockId: "hello", output: { message: "hi grpc" }, attempt: 0 }]);
    expect((await orch.rest("GET", `/instances/${created.id}`)).body.state).toBe("completed");
  });

  it("batch creates, lists with total_count and paging, and lists the DLQ", async () => {
    const future = { seconds: BigInt(Math.floor(Date.now() / 1000) + 3600), nanos: 0 };
    const { count } = await instances.batchCreate({ instances: [1, 2, 3].map(() => ({ sequenceId: parkedId, namespace: "grpc-batch", nextFireAt: future })) });
    expect(count).toBe(3);
    const page = await instances.list({ namespace: "grpc-batch", limit: 2 });
    expect(page.totalCount).toBe(3);
    expect(page.results).toHaveLength(2);
    const scheduled = await instances.list({ namespace: "grpc-batch", states: [TaskInstance_State.SCHEDULED], offset: 2 });
    expect(scheduled.results).toHaveLength(1);
    expect((await instances.listDlq({ namespace: "grpc-batch" })).totalCount).toBe(0);
    expect(await failure(instances.batchCreate({ instances: [{ sequenceId: parkedId, namespace: "" }] }))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "instances[0].namespace" } });
  });

  it("UpdateState follows the transition table; an illegal move is FAILED_PRECONDITION ERROR_CONFLICT", async () => {
    const { id } = await instances.create({ sequenceId: parkedId, namespace: "default", nextFireAt: { seconds: BigInt(Math.floor(Date.now() / 1000) + 3600), nanos: 0 } });
    expect((await instances.updateState({ id, state: TaskInstance_State.PAUSED })).state).toBe(TaskInstance_State.PAUSED);
    expect(await failure(instances.updateState({ id, state: TaskInstance_State.COMPLETED }))).toMatchObject({ code: "ERROR_CONFLICT", grpcCode: Code.FailedPrecondition, metadata: { from: "paused", to: "completed" } });
    expect(await failure(instances.updateState({ id }))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "state" } });
    const ctx = await instances.updateContext({ id, context: { data: { x: 1 } } });
    expect(ctx.context).toMatchObject({ data: { x: 1 } });
    const { signalId } = await instances.sendSignal({ id, signalType: "custom:hello", payload: { kind: { case: "stringValue", value: "hi" } } });
    expect(signalId).toMatch(/^[0-9a-f-]{36}$/);
    expect((await instances.bulkUpdateState({ filter: { tenantId: "acme", namespace: "default", states: [TaskInstance_State.PAUSED] }, state: TaskInstance_State.CANCELLED })).count).toBeGreaterThanOrEqual(1);
    expect((await instances.get({ id })).state).toBe(TaskInstance_State.CANCELLED);
    expect(await failure(instances.retry({ id }))).toMatchObject({ code: "ERROR_CONFLICT", grpcCode: Code.FailedPrecondition });
  });

  it("Retry re-schedules a failed instance", async () => {
    const failing = (await sequences.create({ namespace: "default", name: "grpc-fail", blocks: [{ type: "step", id: "gate", handler: "assert", params: { condition: "ok" } }] })).id;
    const { id } = await instances.create({ sequenceId: failing, namespace: "default" });
    await eventually(async () => ((await instances.get({ id })).state === TaskInstance_State.FAILED ? true : undefined));
    expect((await instances.listDlq({ namespace: "default" })).results.map((r) => r.id)).toContain(id);
    await instances.updateContext({ id, context: { data: { ok: true } } });
    expect(await instances.retry({ id })).toEqual(expect.objectContaining({ id, state: TaskInstance_State.SCHEDULED }));
    await eventually(async () => ((await instances.get({ id })).state === TaskInstance_State.COMPLETED ? true : undefined));
  });

  it("an instance of another domain is not found; a sequence of another tenant is not found", async () => {
    const other = await orch.client(InstanceService, "globex");
    const { id } = await instances.create({ sequenceId, namespace: "default" });
    expect(await failure(other.get({ id }))).toMatchObject({ code: "ERROR_NOT_FOUND" });
    expect(await failure(instances.create({ sequenceId, tenantId: "globex", namespace: "default" }))).toMatchObject({ code: "ERROR_NOT_FOUND" });
  });
});

describe("WorkerService (minimal)", () => {
  it("polls and completes a task of an unknown handler", async () => {
    const { id: sequenceId } = await sequences.create({ namespace: "default", name: "grpc-worker", blocks: [{ type: "step", id: "ext", handler: "grpc_worker_job", params: { n: 1 } }] });
    const { id } = await instances.create({ sequenceId, namespace: "default" });
    const task = await eventually(async () => (await workers.pollTasks({ handlerName: "grpc_worker_job", workerId: "w-grpc", limit: 5 })).tasks[0]);
    expect(task).toMatchObject({ instanceId: id, blockId: "ext", params: { n: 1 }, workerId: "w-grpc" });
    await workers.completeTask({ taskId: task.id, workerId: "w-grpc", output: { ok: true } });
    await eventually(async () => ((await instances.get({ id })).state === TaskInstance_State.COMPLETED ? true : undefined));
    expect(await failure(workers.pollTasks({ handlerName: "", workerId: "w" }))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "handler_name" } });
  });
});
