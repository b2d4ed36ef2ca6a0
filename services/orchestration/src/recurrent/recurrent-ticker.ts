import type { Logger } from "pino";
import { CRON_IDLE_MAX_MS } from "../cron/cron-ticker";
import { Periodic } from "../engine/periodic";
import type { RecurrentRequests } from "./recurrent-requests";

/**
 * Runs in every engine next to the cron ticker: at the next run time (within CRON_IDLE_MAX_MS;
 * woken at once when a request changes here) it fires the due recurrent requests
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
    this.loop = new Periodic({ run: () => this.tick(), nextDelayMs: () => this.nextDelay(), logger, what: "recurrent request tick" });
  }

  /** A request was created or changed here: look at the run times again now. */
  wake(): void {
    this.loop.wake();
  }

  /** Until the next run time (within CRON_IDLE_MAX_MS); overdue right after a tick: another replica has it, wait a tick. */
  private async nextDelay(): Promise<number> {
    if (this.loop.isStopped) return this.options.tickMs;
    const until = await this.requests.msUntilNextDue().catch(() => -1);
    if (until !== undefined && until < 0) return this.options.tickMs;
    const idle = Math.max(this.options.tickMs, CRON_IDLE_MAX_MS);
    return until === undefined ? idle : Math.min(idle, Math.max(5, until));
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
