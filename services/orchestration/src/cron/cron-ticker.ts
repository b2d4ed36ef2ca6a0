import type { Logger } from "pino";
import { Periodic } from "../engine/periodic";
import type { CronSchedules } from "./cron-schedules";

export interface CronTickerOptions {
  /** How often due schedules are looked for (ORCHESTRATION_CRON_TICK_MS). */
  tickMs: number;
  /** Schedules claimed per transaction. */
  batchSize?: number;
}

/**
 * The longest wait between two ticks when no schedule is due sooner: a schedule created or changed
 * in this process wakes the ticker at once (wake), so this only bounds what another replica without
 * an engine created.
 */
export const CRON_IDLE_MAX_MS = 60_000;

/** The shortest wait between two ticks. */
const MIN_DELAY_MS = 5;

/**
 * Runs in every engine: at the next fire time (or within CRON_IDLE_MAX_MS when none is due sooner;
 * woken at once when a schedule changes here) it fires the due cron schedules (a full batch fires again at once). Replicas share the work through FOR UPDATE SKIP LOCKED; a failed tick (database down)
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

  /** A schedule was created or changed here: look at the fire times again now. */
  wake(): void {
    this.loop.wake();
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
    if (until !== undefined && until < 0) return this.options.tickMs;
    const idle = Math.max(this.options.tickMs, CRON_IDLE_MAX_MS);
    return until === undefined ? idle : Math.min(idle, Math.max(MIN_DELAY_MS, until));
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }
}
