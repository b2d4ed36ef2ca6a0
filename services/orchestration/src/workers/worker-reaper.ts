import { isConnectionError } from "@cloudforet/db";
import type { Counter } from "prom-client";
import type { Logger } from "pino";
import type { EngineEvents } from "../engine/engine-events";
import type { WorkerTaskRepository } from "./repository";

export interface WorkerReaperOptions {
  /** A claim without a heartbeat for this long goes back to the queue. */
  heartbeatTimeoutMs: number;
  /** orch8_worker_tasks_reaped_total. */
  reaped: Counter;
  /** Hears of the tasks put back (their long-pollers are woken). */
  events: Pick<EngineEvents, "workerTasksRequeued">;
  logger: Logger;
}

/**
 * Returns tasks whose worker stopped heart-beating (it crashed, hung or lost its network) to the
 * queue, when the earliest held claim would run out (see schedule). Every replica runs it: the reap is one conditional UPDATE,
 * so running it twice at once reaps each task once.
 */
export class WorkerReaper {
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;
  private stopped = false;

  constructor(
    private readonly tasks: WorkerTaskRepository,
    private readonly options: WorkerReaperOptions,
  ) {}

  /** The shortest wait between two passes (a quarter of the timeout: how late a reap may be). */
  get intervalMs(): number {
    return Math.max(50, Math.floor(this.options.heartbeatTimeoutMs / 4));
  }

  start(): void {
    if (this.timer || this.stopped) return;
    this.schedule(this.intervalMs);
  }

  /**
   * The next pass comes when the earliest claim still held would run out of heartbeat (a beat
   * meanwhile only makes that pass early), at most a timeout from now — a claim made after this
   * pass cannot run out sooner — and never sooner than intervalMs: idle, one statement a timeout.
   */
  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.pass().then((nextMs) => {
        this.running = undefined;
        const timeout = this.options.heartbeatTimeoutMs;
        this.schedule(nextMs === undefined ? timeout : Math.min(timeout, Math.max(this.intervalMs, Math.ceil(nextMs) + 20)));
        return 0;
      });
    }, delayMs);
    this.timer.unref();
  }

  /** One pass; returns how many tasks went back to the queue. */
  async reapOnce(): Promise<number> {
    let count = 0;
    await this.pass((n) => (count = n));
    return count;
  }

  /** Reaps; resolves with when the next claim runs out (ms; undefined: none held; -1: the pass failed). */
  private async pass(counted?: (n: number) => void): Promise<number | undefined> {
    const { logger } = this.options;
    try {
      const { reaped, nextMs } = await this.tasks.reapAndLookAhead(this.options.heartbeatTimeoutMs);
      counted?.(reaped.length);
      if (reaped.length === 0) return nextMs;
      this.options.reaped.inc(reaped.length);
      logger.warn(
        { count: reaped.length, task_ids: reaped.slice(0, 20).map((t) => t.id), heartbeat_timeout_ms: this.options.heartbeatTimeoutMs },
        "worker tasks without a heartbeat returned to the queue",
      );
      this.options.events.workerTasksRequeued(reaped);
      return nextMs;
    } catch (err) {
      if (isConnectionError(err)) logger.debug({ err }, "reaper pass skipped: storage unavailable");
      else logger.error({ err }, "reaper pass failed");
      return -1; // retry after intervalMs
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
