import type { Logger } from "pino";
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
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private stopped = true;

  constructor(
    private readonly schedules: CronSchedules,
    private readonly logger: Logger,
    private readonly options: CronTickerOptions,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Fires everything due now (also what tests call with an injected clock). */
  async tick(): Promise<number> {
    const batch = this.options.batchSize ?? 32;
    let created = 0;
    for (;;) {
      const result = await this.schedules.fireDue(batch);
      created += result.created;
      if (result.claimed < batch || this.stopped) return created;
    }
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick()
        .then(
          () => undefined,
          (err) => this.logger.warn({ err }, "cron tick failed; retrying at the next tick"),
        )
        .finally(async () => {
          this.schedule(await this.nextDelay());
          this.running = undefined;
        });
    }, delayMs);
    this.timer.unref?.();
  }

  /**
   * The wait before the next tick: the tick interval, or less when a schedule is due sooner — so a
   * fire starts within a few milliseconds of its instant instead of up to a tick late. A schedule
   * still due after a tick is being fired by another replica: that waits the full tick, so it is
   * not polled hot.
   */
  private async nextDelay(): Promise<number> {
    if (this.stopped) return this.options.tickMs;
    const until = await this.schedules.msUntilNextDue().catch(() => undefined);
    // Overdue right after a tick: another replica is firing it (its row was locked) — no hurry. (Due
    // exactly now is a timer that woke a hair early: try again in a moment.)
    if (until === undefined || until < 0) return this.options.tickMs;
    return Math.min(this.options.tickMs, Math.max(MIN_DELAY_MS, until));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
