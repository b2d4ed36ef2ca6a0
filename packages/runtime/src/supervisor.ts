import type { Logger } from "pino";

/** What the supervisor needs of a child process (node:child_process's ChildProcess has it). */
export interface SupervisedProcess {
  readonly pid?: number;
  readonly exitCode: number | null;
  readonly signalCode: NodeJS.Signals | null;
  kill(signal?: NodeJS.Signals): boolean;
  once(event: "exit", listener: (code: number | null, signal: NodeJS.Signals | null) => void): unknown;
  once(event: "error", listener: (err: Error) => void): unknown;
}

export interface SupervisedChild {
  /** The service's name, for logs. */
  name: string;
  /** Starts (or restarts) the child. */
  spawn(): SupervisedProcess;
}

export interface SupervisorOptions {
  logger: Logger;
  /** First restart delay after a crash; doubles with each crash in a row (default 500 ms). */
  initialBackoffMs?: number;
  /** Longest restart delay (default 30 s). */
  maxBackoffMs?: number;
  /** A child that stayed up this long before exiting starts again from the first delay (default 60 s). */
  resetAfterMs?: number;
  /** How long stop() waits for a child after SIGTERM before SIGKILL (default 15 s). */
  stopTimeoutMs?: number;
}

interface Slot {
  child: SupervisedChild;
  process?: SupervisedProcess;
  startedAt: number;
  /** Crashes in a row (reset after a long enough run). */
  crashes: number;
  restartTimer?: NodeJS.Timeout;
  exited?: Promise<void>;
}

/**
 * Keeps a set of service processes running (the processes mode of `npm start`): a child that exits
 * on its own is restarted after an exponential backoff (0.5 s, 1 s, 2 s … 30 s; back to 0.5 s once it
 * stayed up a minute), its siblings untouched. stop() sends SIGTERM to every child, SIGKILL to one
 * that outlives stopTimeoutMs, and resolves when all have exited.
 */
export class Supervisor {
  private readonly slots: Slot[] = [];
  private stopping = false;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly resetAfterMs: number;
  private readonly stopTimeoutMs: number;

  constructor(
    children: SupervisedChild[],
    private readonly options: SupervisorOptions,
  ) {
    this.initialBackoffMs = options.initialBackoffMs ?? 500;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.resetAfterMs = options.resetAfterMs ?? 60_000;
    this.stopTimeoutMs = options.stopTimeoutMs ?? 15_000;
    for (const child of children) this.slots.push({ child, startedAt: 0, crashes: 0 });
  }

  start(): void {
    for (const slot of this.slots) this.launch(slot);
  }

  /** The running process of a child (undefined while it waits for its restart). */
  process(name: string): SupervisedProcess | undefined {
    return this.slots.find((s) => s.child.name === name)?.process;
  }

  /** The delay before restarting a child after its `crashes`-th crash in a row. */
  backoffMs(crashes: number): number {
    return Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** Math.max(0, crashes - 1));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const waits: Promise<void>[] = [];
    for (const slot of this.slots) {
      clearTimeout(slot.restartTimer);
      const proc = slot.process;
      if (!proc || !slot.exited) continue;
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill("SIGTERM");
        const killer = setTimeout(() => {
          this.options.logger.warn({ service: slot.child.name, pid: proc.pid }, "service did not stop in time; killing it");
          proc.kill("SIGKILL");
        }, this.stopTimeoutMs);
        killer.unref();
        waits.push(slot.exited.finally(() => clearTimeout(killer)));
      }
    }
    await Promise.all(waits);
  }

  private launch(slot: Slot): void {
    if (this.stopping) return;
    let proc: SupervisedProcess;
    try {
      proc = slot.child.spawn();
    } catch (err) {
      this.options.logger.error({ service: slot.child.name, err }, "service process could not be started");
      this.scheduleRestart(slot, 0);
      return;
    }
    slot.process = proc;
    slot.startedAt = Date.now();
    slot.exited = new Promise<void>((resolve) => {
      let done = false;
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        if (done) return;
        done = true;
        resolve();
        if (slot.process === proc) slot.process = undefined;
        if (this.stopping) return;
        const upMs = Date.now() - slot.startedAt;
        this.scheduleRestart(slot, upMs, code, signal);
      };
      proc.once("exit", onExit);
      // A process that could not be spawned (ENOENT) emits "error" and may never emit "exit".
      proc.once("error", (err) => {
        this.options.logger.error({ service: slot.child.name, err }, "service process failed");
        onExit(null, null);
      });
    });
  }

  private scheduleRestart(slot: Slot, upMs: number, code?: number | null, signal?: NodeJS.Signals | null): void {
    if (this.stopping) return;
    slot.crashes = upMs >= this.resetAfterMs ? 1 : slot.crashes + 1;
    const delayMs = this.backoffMs(slot.crashes);
    this.options.logger.warn(
      { service: slot.child.name, code, signal, up_ms: upMs, crashes_in_a_row: slot.crashes, restart_in_ms: delayMs },
      "service process exited; restarting it",
    );
    slot.restartTimer = setTimeout(() => {
      slot.restartTimer = undefined;
      this.launch(slot);
    }, delayMs);
  }
}
