import type { Logger } from "pino";
import type { RecurrentRequests } from "./recurrent-requests";

/**
 * Runs in every engine next to the cron ticker: every `tickMs` it fires the due recurrent requests
 * (a full batch fires again at once). Replicas share the work through FOR UPDATE SKIP LOCKED and
 * the per-due-time idempotency key; a failed tick is logged and retried at the next one.
 */
export class RecurrentTicker {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = true;

  constructor(
    private readonly requests: RecurrentRequests,
    private readonly logger: Logger,
    private readonly options: { tickMs: number; batchSize?: number },
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Fires everything due now; returns how many instances it created. */
  async tick(): Promise<number> {
    const batch = this.options.batchSize ?? 32;
    let created = 0;
    for (;;) {
      const result = await this.requests.fireDue(batch);
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
          (err) => this.logger.warn({ err }, "recurrent request tick failed; retrying at the next tick"),
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
