import type { Logger } from "pino";
import type { ChangeHistoryRepository } from "./repository";

const DAY_MS = 86_400_000;
/** Rows deleted per statement, so a large backlog never holds one long transaction. */
const PRUNE_BATCH = 10_000;

/**
 * Prunes changes older than the retention: at start, then after every `intervalMs` of sleep. Each
 * pass deletes in batches under an advisory lock (ChangeHistoryRepository.pruneBefore), so of several
 * replicas one prunes at a time and the others sleep on.
 */
export class HistoryRetentionSweeper {
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;
  private stopped = true;

  constructor(
    private readonly history: ChangeHistoryRepository,
    private readonly retentionDays: number,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.stopped = false;
    const loop = () => {
      void this.sweep().finally(() => {
        if (this.stopped) return;
        this.timer = setTimeout(loop, this.intervalMs);
        this.timer.unref();
      });
    };
    loop();
  }

  /** One pass (a pass under way is joined); how many changes it pruned. */
  sweep(now = new Date()): Promise<number> {
    this.running ??= (async () => {
      const cutoff = new Date(now.getTime() - this.retentionDays * DAY_MS);
      let pruned = 0;
      try {
        for (;;) {
          const n = await this.history.pruneBefore(cutoff, PRUNE_BATCH);
          if (n === undefined) break; // another replica is pruning
          pruned += n;
          if (n < PRUNE_BATCH || this.stopped) break;
        }
        if (pruned > 0) this.logger.info({ pruned, cutoff: cutoff.toISOString() }, "expired change history pruned");
      } catch (err) {
        this.logger.warn({ err }, "change history retention sweep failed; retrying after the next sleep");
      } finally {
        this.running = undefined;
      }
      return pruned;
    })();
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
