import type { Logger } from "pino";
import { Periodic } from "../engine/periodic";
import type { RecurrentRequests } from "./recurrent-requests";

/**
 * Runs in every engine next to the cron ticker: every `tickMs` it fires the due recurrent requests
 * (a full batch fires again at once). Replicas share the work through FOR UPDATE SKIP LOCKED and
 * the per-due-time idempotency key; a failed tick is logged and retried at the next one.
 */
export class RecurrentTicker {
  private readonly loop: Periodic;

  constructor(
    private readonly requests: RecurrentRequests,
    logger: Logger,
    private readonly options: { tickMs: number; batchSize?: number },
  ) {
    this.loop = new Periodic({ run: () => this.tick(), nextDelayMs: () => options.tickMs, logger, what: "recurrent request tick" });
  }

  start(): void {
    this.loop.start();
  }

  /** Fires everything due now; returns how many instances it created. */
  async tick(): Promise<number> {
    const batch = this.options.batchSize ?? 32;
    let created = 0;
    for (;;) {
      const result = await this.requests.fireDue(batch);
      created += result.created;
      if (result.claimed < batch || this.loop.isStopped) return created;
    }
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }
}
