import type { Logger } from "pino";

export interface PeriodicOptions {
  /** What the loop does each time; a failure is logged and the loop goes on. */
  run(): Promise<unknown>;
  /** The wait after a run (or after a failed one) before the next. */
  nextDelayMs(): number | Promise<number>;
  logger: Logger;
  /** Completes "… failed; retrying …" in the warning a failed run logs (e.g. "cron tick"). */
  what: string;
}

/**
 * Background work that runs now and then again after a delay the work chooses, one run at a time
 * (never overlapping, unlike setInterval), in every engine replica. stop() waits for a run in
 * progress, so shutdown never cuts a transaction in half.
 */
export class Periodic {
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private stopped = true;
  /** wake() came while a run was in progress: run again right after it. */
  private again = false;

  constructor(private readonly options: PeriodicOptions) {}

  get isStopped(): boolean {
    return this.stopped;
  }

  start(firstDelayMs = 0): void {
    this.stopped = false;
    this.schedule(firstDelayMs);
  }

  /**
   * Runs now rather than after the chosen delay (what the work depends on changed: a new cron
   * schedule may be due before the timer) — right after the run in progress, if one is.
   */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.options
        .run()
        .catch((err) => this.options.logger.warn({ err }, `${this.options.what} failed; retrying at the next one`))
        .then(() => this.options.nextDelayMs())
        .catch(() => 1_000)
        .then((delay) => {
          this.running = undefined;
          this.schedule(this.again ? 0 : delay);
          this.again = false;
        });
    }, delayMs);
    this.timer.unref?.();
  }
}
