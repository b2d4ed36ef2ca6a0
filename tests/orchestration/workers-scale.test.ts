import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSequence, eventually, startOrchestration, waitForState, type TestOrchestration } from "./support";
import { spawnWorker, type WorkerProcess } from "./support/worker-spawn";

// Real worker processes (plain HTTP long-poll loops) against one orchestration service: 1,000 tasks
// each completed exactly once by 4 workers; a worker killed mid-task loses its task to another.

const TASKS = 1_000;
const HEARTBEAT_TIMEOUT_MS = 1_500;

let orch: TestOrchestration;
let sql: postgres.Sql;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  orch = await startOrchestration({ ORCHESTRATION_WORKER_HEARTBEAT_TIMEOUT_MS: String(HEARTBEAT_TIMEOUT_MS) });
  sql = postgres(orch.database.url, { max: 2, onnotice: () => {} });
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.kill()));
  await sql?.end();
  await orch?.close();
});

async function startWorkers(handler: string, ids: string[], extra: { hold?: boolean; limit?: number } = {}): Promise<WorkerProcess[]> {
  const token = await orch.token();
  const started = await Promise.all(ids.map((id) => spawnWorker({ url: orch.restUrl, token, handler, id, waitMs: 5_000, limit: 10, heartbeatMs: 400, ...extra })));
  workers.push(...started);
  return started;
}

describe("external worker processes", () => {
  it("4 workers × 1,000 tasks: every task completed exactly once, every instance completed", async () => {
    const handler = "bulk_job";
    const sequenceId = await createSequence(orch, "bulk", [{ type: "step", id: "work", handler, params: { n: "{{ context.data.n }}" } }]);
    const pool = await startWorkers(handler, ["w1", "w2", "w3", "w4"]);
    const instances = Array.from({ length: TASKS }, (_, n) => ({ sequence_id: sequenceId, tenant_id: "acme", namespace: "bulk", context: { data: { n } } }));
    expect(await orch.rest("POST", "/instances/batch", { instances })).toEqual({ status: 201, body: { count: TASKS } });

    await eventually(
      async () => {
        const [{ n }] = await sql`select count(*)::int as n from orchestration.instances where namespace = 'bulk' and state = 'completed'`;
        return n === TASKS ? true : undefined;
      },
      90_000,
      "every instance to complete",
    );
    await Promise.all(pool.map((w) => w.stop()));

    // What the workers say they completed: each task once, by exactly one worker.
    const completions = new Map<string, string[]>();
    for (const w of pool) for (const e of w.events) if (e.event === "completed") completions.set(e.id!, [...(completions.get(e.id!) ?? []), w.id]);
    const tasks = await sql`select t.id, t.state, t.worker_id, t.claim_epoch, t.output from orchestration.worker_tasks t where t.handler_name = ${handler}`;
    expect(tasks).toHaveLength(TASKS);
    expect(completions.size).toBe(TASKS);
    for (const task of tasks) {
      expect(completions.get(task.id), `task ${task.id}`).toEqual([task.worker_id]);
      expect(task.state).toBe("completed");
      expect(task.output.worker).toBe(task.worker_id);
    }
    expect(pool.flatMap((w) => w.events.filter((e) => e.event === "error"))).toEqual([]);
    // A report can only be refused as a conflict: under heavy load a claim may outlive the short
    // heartbeat timeout and be reaped; the task then went to another worker (checked above).
    for (const e of pool.flatMap((w) => w.events.filter((e) => e.event === "rejected"))) expect(e.status).toBe(409);
    // One output per instance, carrying its own n back.
    const outputs = await sql`select i.context->'data'->>'n' as n, o.output->>'n' as echoed, count(*) over (partition by o.instance_id)::int as per_instance
                              from orchestration.block_outputs o join orchestration.instances i on i.id = o.instance_id where i.namespace = 'bulk'`;
    expect(outputs).toHaveLength(TASKS);
    for (const row of outputs) expect(row).toEqual({ n: row.echoed, echoed: row.n, per_instance: 1 });
    const share = pool.map((w) => `${w.id}=${w.events.filter((e) => e.event === "completed").length}`);
    console.log(`4 worker processes completed ${TASKS} tasks: ${share.join(" ")}`);
  }, 120_000);

  it("a worker killed mid-task has its task reaped and completed by another; its late report is refused", async () => {
    const handler = "crash_job";
    const sequenceId = await createSequence(orch, "crash", [{ type: "step", id: "work", handler }]);
    const [crashy] = await startWorkers(handler, ["crashy"], { hold: true, limit: 1 });
    const created = await orch.rest("POST", "/instances", { sequence_id: sequenceId, tenant_id: "acme", namespace: "crash" });
    const claimed = await crashy.next((e) => e.event === "claimed");
    expect(claimed.epoch).toBe(1);
    await crashy.kill(); // SIGKILL: no goodbye, no more heartbeats

    const [rescuer] = await startWorkers(handler, ["rescuer"]);
    const done = await rescuer.next((e) => e.event === "completed", 20_000);
    expect(done.id).toBe(claimed.id);
    await waitForState(orch, created.body.id, ["completed"]);
    const [task] = await sql`select state, worker_id, claim_epoch, output from orchestration.worker_tasks where id = ${claimed.id!}`;
    expect(task).toEqual({ state: "completed", worker_id: "rescuer", claim_epoch: 2, output: { worker: "rescuer", n: null } });
    const metrics = (await orch.rest("GET", "/metrics")).body as string;
    expect(Number(/^orch8_worker_tasks_reaped_total(?:\{[^}]*\})? (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);

    // The crashed worker comes back and reports late, with or without its epoch.
    for (const body of [{ worker_id: "crashy", claim_epoch: 1 }, { worker_id: "crashy" }]) {
      const late = await orch.rest("POST", `/workers/tasks/${claimed.id}/complete`, { ...body, output: { late: true } });
      expect(late.status).toBe(409);
      expect(late.body.error).toMatch(/^task is completed; not claimed by crashy/);
    }
    await rescuer.stop();
  }, 60_000);
});
