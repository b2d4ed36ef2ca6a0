import type { Logger } from "pino";
import type { Triggers } from "./triggers";

export interface DedupeSweeperOptions {
  /** Age after which a dedupe record is deleted (ORCHESTRATION_DEDUPE_TTL, default 30 days). */
  ttlMs: number;
  /** How often to sweep (ORCHESTRATION_DEDUPE_SWEEP_MS, default one hour); also once at start. */
  intervalMs: number;
}

/**
 * Deletes trigger_dedupe rows older than the TTL (seed 002: "Dedupe rows are swept by the TTL
 * sweeper"), at start and then periodically, in every engine. Replicas sweeping at the same time
 * are harmless: each deletes rows the others have not locked. Once a row is gone, the same
 * dedupe_key fires a new child again.
 */
export class DedupeSweeper {
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private stopped = true;

  constructor(
    private readonly triggers: Triggers,
    private readonly logger: Logger,
    private readonly options: DedupeSweeperOptions,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** One sweep now; the number of records deleted. */
  async sweep(): Promise<number> {
    const deleted = await this.triggers.sweepDedupe(this.options.ttlMs);
    if (deleted > 0) this.logger.info({ deleted, ttl_ms: this.options.ttlMs }, "swept expired trigger dedupe records");
    return deleted;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.sweep()
        .catch((err) => this.logger.warn({ err }, "dedupe sweep failed; retrying at the next interval"))
        .finally(() => {
          this.running = undefined;
          this.schedule(this.options.intervalMs);
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
