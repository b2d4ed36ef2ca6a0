import { isConnectionError } from "@cloudforet/db";
import type { Counter } from "prom-client";
import type { Logger } from "pino";
import type { ReapedTask, WorkerTaskRepository } from "./worker-task-repository";

export interface WorkerReaperOptions {
  /** A claim without a heartbeat for this long goes back to the queue. */
  heartbeatTimeoutMs: number;
  /** orch8_worker_tasks_reaped_total. */
  reaped: Counter;
  /** Wakes the long-pollers of the tasks put back. */
  onReaped: (tasks: ReapedTask[]) => void;
  logger: Logger;
}

/**
 * Returns tasks whose worker stopped heart-beating (it crashed, hung or lost its network) to the
 * queue, every quarter of the timeout. Every replica runs it: the reap is one conditional UPDATE,
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

  get intervalMs(): number {
    return Math.max(50, Math.floor(this.options.heartbeatTimeoutMs / 4));
  }

  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => {
      this.running ??= this.reapOnce().finally(() => (this.running = undefined));
    }, this.intervalMs);
    this.timer.unref();
  }

  /** One pass; returns how many tasks went back to the queue. */
  async reapOnce(): Promise<number> {
    const { logger } = this.options;
    try {
      const reaped = await this.tasks.reap(this.options.heartbeatTimeoutMs);
      if (reaped.length === 0) return 0;
      this.options.reaped.inc(reaped.length);
      logger.warn(
        { count: reaped.length, task_ids: reaped.slice(0, 20).map((t) => t.id), heartbeat_timeout_ms: this.options.heartbeatTimeoutMs },
        "worker tasks without a heartbeat returned to the queue",
      );
      this.options.onReaped(reaped);
      return reaped.length;
    } catch (err) {
      if (isConnectionError(err)) logger.debug({ err }, "reaper pass skipped: storage unavailable");
      else logger.error({ err }, "reaper pass failed");
      return 0;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
