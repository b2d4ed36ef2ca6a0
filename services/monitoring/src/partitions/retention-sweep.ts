import type { Logger } from "pino";
import type { DayPartitions } from "./day-partitions";

/** Drops expired day partitions (and runs `prepare`, e.g. creating tomorrow's) at start and then every `intervalMs`. */
export class RetentionSweep {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly partitions: DayPartitions,
    private readonly cutoff: () => Date,
    private readonly intervalMs: number,
    private readonly logger: Logger,
    private readonly prepare: () => Promise<void> = async () => {},
  ) {}

  start(): void {
    void this.sweep();
    this.timer = setInterval(() => void this.sweep(), this.intervalMs);
    this.timer.unref();
  }

  /** One pass; a pass already under way is joined, not doubled. */
  sweep(): Promise<void> {
    this.running ??= (async () => {
      try {
        await this.prepare();
        const cutoff = this.cutoff();
        const dropped = await this.partitions.dropBefore(cutoff);
        if (dropped.length > 0) this.logger.info({ dropped, cutoff: cutoff.toISOString() }, "expired metric partitions dropped");
      } catch (err) {
        this.logger.warn({ err }, "metric retention sweep failed; retrying at the next interval");
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
