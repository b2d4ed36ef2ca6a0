// A plain-HTTP external worker, run as its own process by the worker tests and the bench
// (`node --import tsx tests/orchestration/support/worker-process.ts`). It long-polls, heartbeats
// the tasks it holds, completes them with its claim_epoch and prints one JSON line per event on
// stdout, so the parent can count what each worker did:
//   {"event":"ready"} {"event":"claimed","id","epoch"} {"event":"completed","id","ms"} {"event":"rejected","id","status","ms","error"}
// Settings (environment): WORKER_URL, WORKER_TOKEN, WORKER_HANDLER, WORKER_ID, WORKER_LIMIT (10),
// WORKER_WAIT_MS (5000), WORKER_HOLD (never complete: for the crash tests), WORKER_HEARTBEAT_MS (500).
// SIGTERM ends it after the poll in flight is abandoned.

export {}; // a module: top-level await

const env = (name: string, fallback?: string): string => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`${name} is required`);
  return value;
};

const url = env("WORKER_URL");
const token = env("WORKER_TOKEN");
const handlerName = env("WORKER_HANDLER");
const workerId = env("WORKER_ID");
const limit = Number(env("WORKER_LIMIT", "10"));
const waitMs = Number(env("WORKER_WAIT_MS", "5000"));
const hold = env("WORKER_HOLD", "") === "1";
const heartbeatMs = Number(env("WORKER_HEARTBEAT_MS", "500"));

interface Task {
  id: string;
  claim_epoch: number;
  params: Record<string, unknown>;
}

const stopping = new AbortController();
const held = new Map<string, number>();
const emit = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(line)}\n`);

async function post(path: string, body: unknown, signal?: AbortSignal): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
    signal,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function work(task: Task): Promise<void> {
  held.set(task.id, task.claim_epoch);
  emit({ event: "claimed", id: task.id, epoch: task.claim_epoch });
  if (hold) return; // keeps heart-beating until killed
  const started = performance.now();
  const res = await post(`/workers/tasks/${task.id}/complete`, { worker_id: workerId, claim_epoch: task.claim_epoch, output: { worker: workerId, n: task.params.n ?? null } });
  held.delete(task.id);
  const ms = Math.round(performance.now() - started);
  emit(res.status === 200 ? { event: "completed", id: task.id, ms } : { event: "rejected", id: task.id, status: res.status, ms, error: res.body?.error });
}

const heartbeats = setInterval(() => {
  for (const [id, epoch] of held) {
    post(`/workers/tasks/${id}/heartbeat`, { worker_id: workerId, claim_epoch: epoch }).then(
      (res) => res.status === 409 && held.delete(id),
      () => {},
    );
  }
}, heartbeatMs);

process.once("SIGTERM", () => stopping.abort());
emit({ event: "ready" });
while (!stopping.signal.aborted) {
  let tasks: Task[];
  try {
    const res = await post("/workers/tasks/poll", { handler_name: handlerName, worker_id: workerId, limit, wait_ms: waitMs }, stopping.signal);
    if (res.status !== 200) throw new Error(`poll answered ${res.status}: ${JSON.stringify(res.body)}`);
    tasks = res.body;
  } catch (err) {
    if (stopping.signal.aborted) break;
    emit({ event: "error", message: (err as Error).message });
    await new Promise((resolve) => setTimeout(resolve, 200));
    continue;
  }
  await Promise.all(tasks.map(work));
  // A holding worker takes one batch and then only heart-beats, like a worker stuck in its task.
  if (hold && held.size > 0) await new Promise((resolve) => stopping.signal.addEventListener("abort", resolve));
}
clearInterval(heartbeats);
