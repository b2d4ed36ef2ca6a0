import type { Logger } from "pino";
import { Periodic } from "../engine/periodic";
import type { CronSchedules } from "./cron-schedules";

export interface CronTickerOptions {
  /** How often due schedules are looked for (ORCHESTRATION_CRON_TICK_MS). */
  tickMs: number;
  /** Schedules claimed per transaction. */
  batchSize?: number;
}

/** The shortest wait between two ticks. */
const MIN_DELAY_MS = 5;

/**
 * Runs in every engine: every `tickMs` — or sooner, at the next fire time when that comes first —
 * it fires the due cron schedules (a full batch fires again at once). Replicas share the work through FOR UPDATE SKIP LOCKED; a failed tick (database down)
 * is logged and retried at the next one.
 */
export class CronTicker {
  private readonly loop: Periodic;

  constructor(
    private readonly schedules: CronSchedules,
    logger: Logger,
    private readonly options: CronTickerOptions,
  ) {
    this.loop = new Periodic({ run: () => this.tick(), nextDelayMs: () => this.nextDelay(), logger, what: "cron tick" });
  }

  start(): void {
    this.loop.start();
  }

  /** Fires everything due now (also what tests call with an injected clock). */
  async tick(): Promise<number> {
    const batch = this.options.batchSize ?? 32;
    let created = 0;
    for (;;) {
      const result = await this.schedules.fireDue(batch);
      created += result.created;
      if (result.claimed < batch || this.loop.isStopped) return created;
    }
  }

  /**
   * The wait before the next tick: the tick interval, or less when a schedule is due sooner — so a
   * fire starts within a few milliseconds of its instant instead of up to a tick late. A schedule
   * still due after a tick is being fired by another replica: that waits the full tick, so it is
   * not polled hot.
   */
  private async nextDelay(): Promise<number> {
    if (this.loop.isStopped) return this.options.tickMs;
    const until = await this.schedules.msUntilNextDue().catch(() => undefined);
    // Overdue right after a tick: another replica is firing it (its row was locked) — no hurry. (Due
    // exactly now is a timer that woke a hair early: try again in a moment.)
    if (until === undefined || until < 0) return this.options.tickMs;
    return Math.min(this.options.tickMs, Math.max(MIN_DELAY_MS, until));
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }
}
