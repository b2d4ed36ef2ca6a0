import type { Logger } from "pino";
import type { CronSchedules } from "./cron-schedules";

export interface CronTickerOptions {
  /** How often due schedules are looked for (ORCHESTRATION_CRON_TICK_MS). */
  tickMs: number;
  /** Schedules claimed per transaction. */
  batchSize?: number;
}

/**
 * Runs in every engine: every `tickMs` it fires the due cron schedules (a full batch fires again
 * at once). Replicas share the work through FOR UPDATE SKIP LOCKED; a failed tick (database down)
 * is logged and retried at the next one.
 */
export class CronTicker {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
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
        .finally(() => {
          this.running = undefined;
          this.schedule(this.options.tickMs);
        });
    }, delayMs);
    this.timer.unref?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
