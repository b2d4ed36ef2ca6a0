import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), "worker-process.ts");
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

export interface WorkerEvent {
  event: "ready" | "claimed" | "completed" | "rejected" | "error";
  id?: string;
  epoch?: number;
  status?: number;
  /** How long the complete call took. */
  ms?: number;
  message?: string;
  error?: string;
}

export interface WorkerProcess {
  id: string;
  child: ChildProcess;
  /** Every line the worker printed, in order. */
  events: WorkerEvent[];
  /** Resolves with the first event (already seen or to come) that matches. */
  next(match: (e: WorkerEvent) => boolean, timeoutMs?: number): Promise<WorkerEvent>;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>;
  kill(): Promise<void>;
}

export interface WorkerSettings {
  url: string;
  token: string;
  handler: string;
  id: string;
  limit?: number;
  waitMs?: number;
  /** Claim one batch and never complete it (heart-beats until killed). */
  hold?: boolean;
  heartbeatMs?: number;
}

/** Starts tests/orchestration/support/worker-process.ts as its own process (`node --import tsx`). */
export async function spawnWorker(settings: WorkerSettings): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", script], {
    cwd: root,
    env: {
      ...process.env,
      WORKER_URL: settings.url,
      WORKER_TOKEN: settings.token,
      WORKER_HANDLER: settings.handler,
      WORKER_ID: settings.id,
      WORKER_LIMIT: String(settings.limit ?? 10),
      WORKER_WAIT_MS: String(settings.waitMs ?? 5_000),
      WORKER_HOLD: settings.hold ? "1" : "",
      WORKER_HEARTBEAT_MS: String(settings.heartbeatMs ?? 500),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const events: WorkerEvent[] = [];
  const listeners = new Set<() => void>();
  const stderr: string[] = [];
  child.stderr?.on("data", (chunk) => stderr.push(String(chunk)));
  createInterface({ input: child.stdout! }).on("line", (line) => {
    try {
      events.push(JSON.parse(line) as WorkerEvent);
    } catch {
      stderr.push(line);
    }
    for (const listener of listeners) listener();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const next = (match: (e: WorkerEvent) => boolean, timeoutMs = 30_000) =>
    new Promise<WorkerEvent>((resolve, reject) => {
      const check = () => {
        const found = events.find(match);
        if (!found) return false;
        listeners.delete(check);
        clearTimeout(timer);
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`worker ${settings.id}: no matching event in ${timeoutMs} ms; events ${JSON.stringify(events.slice(-5))}; stderr ${stderr.join("").slice(-2000)}`));
      }, timeoutMs);
      if (!check()) listeners.add(check);
    });
  const worker: WorkerProcess = {
    id: settings.id,
    child,
    events,
    next,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
  await next((e) => e.event === "ready", 60_000);
  return worker;
}
