import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rssMb, startHostileHttpServer, type HostileHttpServer } from "../outbound/support/hostile-http";
import { createSequence, eventually, runInstance, startOrchestration, waitForState, type TestOrchestration } from "./support";

// Hostile peers of the engine (README "Security"): HTTP servers answering 1 GiB, a gzip bomb or a
// body that never ends, and external workers reporting outputs too deep, too big or texts full of
// NULs. Real servers and a real worker client against real Postgres.

const STEP_TIMEOUT_MS = 2_000;

let orch: TestOrchestration;
let hostile: HostileHttpServer;
let sql: postgres.Sql;
let names = 0;

beforeAll(async () => {
  hostile = await startHostileHttpServer();
  orch = await startOrchestration({ ORCHESTRATION_MAX_OUTPUT_BYTES: String(1024 * 1024) });
  sql = postgres(orch.database.url, { max: 2, onnotice: () => {} });
});

afterAll(async () => {
  await sql?.end();
  await orch?.close();
  await hostile?.close();
});

/** Runs one http_request step (one attempt) and reports how it ended, how long it took and the RSS it added. */
async function fetchHostile(path: string) {
  const id = await createSequence(orch, `hostile-${++names}`, [
    { type: "step", id: "h", handler: "http_request", params: { url: `${hostile.url}${path}`, timeout_ms: STEP_TIMEOUT_MS }, retry: { max_attempts: 1 } },
  ]);
  const before = rssMb();
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss / (1024 * 1024))), 20);
  const started = Date.now();
  try {
    const instance = await runInstance(orch, id, {}, ["completed", "failed", "cancelled"], 30_000);
    return { instance, elapsedMs: Date.now() - started, grewMb: peak - before };
  } finally {
    clearInterval(sampler);
  }
}

describe("http_request against hostile servers", () => {
  it("a 1 GiB body is cut at the 1 MiB cap while streaming: a clear error, little memory, the connection closed", async () => {
    const { instance, elapsedMs, grewMb } = await fetchHostile("/huge");
    expect(instance.state).toBe("failed");
    expect(instance.context.runtime.error).toBe(`http_request: GET ${hostile.url}/huge: the response of 127.0.0.1 is too large (more than 1048576 bytes)`);
    expect(elapsedMs).toBeLessThan(STEP_TIMEOUT_MS + 5_000);
    expect(grewMb).toBeLessThan(100);
    // Only what the kernel buffers was sent past the cap, not the gigabyte.
    await eventually(async () => (hostile.openConnections() === 0 ? true : undefined), 5_000, "the connection to close");
    expect(hostile.sentBytes()).toBeLessThan(64 * 1024 * 1024);
  });

  it("a gzip bomb (512 KiB inflating to 512 MiB, under the cap on the wire) is counted after inflation and refused at the cap", async () => {
    const { instance, elapsedMs, grewMb } = await fetchHostile("/bomb");
    expect(instance.state).toBe("failed");
    expect(instance.context.runtime.error).toBe(`http_request: GET ${hostile.url}/bomb: the response of 127.0.0.1 is too large (more than 1048576 bytes)`);
    expect(elapsedMs).toBeLessThan(STEP_TIMEOUT_MS + 5_000);
    expect(grewMb).toBeLessThan(100);
  });

  it("an endless chunked body ends at the step's timeout_ms with a timed-out error", async () => {
    const { instance, elapsedMs, grewMb } = await fetchHostile("/endless");
    expect(instance.state).toBe("failed");
    expect(instance.context.runtime.error).toBe(`http_request: GET ${hostile.url}/endless: timed out after ${STEP_TIMEOUT_MS} ms`);
    expect(elapsedMs).toBeGreaterThanOrEqual(STEP_TIMEOUT_MS - 100);
    expect(elapsedMs).toBeLessThan(STEP_TIMEOUT_MS + 5_000);
    expect(grewMb).toBeLessThan(100);
    await eventually(async () => (hostile.openConnections() === 0 ? true : undefined), 5_000, "the endless connection to close");
  });
});

describe("external workers reporting hostile results", () => {
  let handlers = 0;

  /** An instance whose only step waits for an external worker; the task as claimed by `worker`. */
  async function claimedTask(worker = "hostile-worker") {
    const handler = `hostile_${++handlers}`;
    const sequenceId = await createSequence(orch, handler, [{ type: "step", id: "work", handler, timeout: "60s" }]);
    const created = await orch.rest("POST", "/instances", { sequence_id: sequenceId, tenant_id: "acme", namespace: "default" });
    const task = await eventually(async () => (await orch.rest("POST", "/workers/tasks/poll", { handler_name: handler, worker_id: worker })).body[0], 10_000, "a task");
    return { instanceId: created.body.id as string, task };
  }

  it("an output nested 100,000 levels deep is a 400 naming output, and the task stays claimed", async () => {
    const { task } = await claimedTask();
    const depth = 100_000;
    const body = `{"worker_id":"hostile-worker","output":${'{"a":'.repeat(depth)}1${"}".repeat(depth)}}`;
    const res = await orch.rest("POST", `/workers/tasks/${task.id}/complete`, body);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/^output\b.*nested deeper than 64 levels/);
    const [row] = await sql`select state from orchestration.worker_tasks where id = ${task.id}`;
    expect(row.state).toBe("claimed");
  });

  it("an output over ORCHESTRATION_MAX_OUTPUT_BYTES (3.9 MB) is refused with ERROR_PAYLOAD_TOO_LARGE, not stored", async () => {
    const { task, instanceId } = await claimedTask();
    const output = { blob: "x".repeat(3_900_000) };
    const res = await orch.rest("POST", `/workers/tasks/${task.id}/complete`, { worker_id: "hostile-worker", output });
    expect(res.status).toBe(413);
    // ERROR_PAYLOAD_TOO_LARGE is REST's 413 (the seed's error body carries the text only).
    expect(res.body.error).toMatch(/^output is 3900\d+ bytes, more than the 1048576-byte limit for a task output/);
    const [row] = await sql`select state, output from orchestration.worker_tasks where id = ${task.id}`;
    expect(row).toEqual({ state: "claimed", output: null });
    // Just under the limit is stored and completes the step.
    const fits = await orch.rest("POST", `/workers/tasks/${task.id}/complete`, { worker_id: "hostile-worker", output: { blob: "y".repeat(1024 * 1024 - 64) } });
    expect(fits.status).toBe(200);
    expect((await waitForState(orch, instanceId, ["completed"])).state).toBe("completed");
  });

  it("a failure message of 1 MB with NULs and control characters is stored bounded and clean", async () => {
    const { task, instanceId } = await claimedTask();
    const message = `boom\u0000\u0007${"e".repeat(1_000_000)}`;
    const res = await orch.rest("POST", `/workers/tasks/${task.id}/fail`, { worker_id: "hostile-worker", message, retryable: false });
    // The REST layer refuses a NUL in JSON text on its own; the same text without it reaches the worker protocol.
    if (res.status === 400) {
      expect(res.body.error).toMatch(/NUL/);
      const clean = await orch.rest("POST", `/workers/tasks/${task.id}/fail`, { worker_id: "hostile-worker", message: message.replace("\u0000", ""), retryable: false });
      expect(clean.status).toBe(200);
    } else {
      expect(res.status).toBe(200);
    }
    const [row] = await sql`select error_message from orchestration.worker_tasks where id = ${task.id}`;
    expect(row.error_message.length).toBeLessThanOrEqual(2049);
    expect(row.error_message).toMatch(/^boom\ufffd+e+…$/);
    const instance = await waitForState(orch, instanceId, ["failed"]);
    expect(instance.context.runtime.error).toBe(row.error_message);
  });
});
