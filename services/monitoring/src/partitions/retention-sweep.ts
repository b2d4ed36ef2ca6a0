import type { Logger } from "pino";
import { DAY_MS, type DayPartitions } from "./day-partitions";

/** Past midnight before sweeping, so "now" is surely in the new day on this clock. */
const MIDNIGHT_SLACK_MS = 1_000;

/**
 * Drops expired day partitions (and runs `prepare`, e.g. creating tomorrow's) at start, then every
 * `intervalMs` and right after each UTC midnight: partitions are days, so nothing changes between
 * midnights, and one timer to the next midnight makes the day's first sweep on time without a
 * shorter interval (an idle service then touches the database about once an interval).
 */
export class RetentionSweep {
  private timer?: NodeJS.Timeout;
  private stopped = true;
  private running?: Promise<void>;

  constructor(
    private readonly partitions: DayPartitions,
    private readonly cutoff: () => Date,
    private readonly intervalMs: number,
    private readonly logger: Logger,
    private readonly prepare: () => Promise<void> = async () => {},
  ) {}

  start(): void {
    this.stopped = false;
    void this.sweep();
    this.scheduleNext();
  }

  /** The next sweep: after `intervalMs`, or just past the next UTC midnight if that comes first. */
  private scheduleNext(): void {
    if (this.stopped) return;
    const now = Date.now();
    const untilMidnight = Math.ceil((now + 1) / DAY_MS) * DAY_MS - now + MIDNIGHT_SLACK_MS;
    this.timer = setTimeout(() => {
      void this.sweep().finally(() => this.scheduleNext());
    }, Math.min(this.intervalMs, untilMidnight));
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
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
