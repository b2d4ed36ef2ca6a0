import type { Logger } from "pino";
import { Periodic } from "../engine/periodic";
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
  private readonly loop: Periodic;

  constructor(
    private readonly triggers: Triggers,
    private readonly logger: Logger,
    private readonly options: DedupeSweeperOptions,
  ) {
    this.loop = new Periodic({ run: () => this.sweep(), nextDelayMs: () => options.intervalMs, logger, what: "dedupe sweep" });
  }

  start(): void {
    this.loop.start();
  }

  /** One sweep now; the number of records deleted. */
  async sweep(): Promise<number> {
    const deleted = await this.triggers.sweepDedupe(this.options.ttlMs);
    if (deleted > 0) this.logger.info({ deleted, ttl_ms: this.options.ttlMs }, "swept expired trigger dedupe records");
    return deleted;
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }
}
