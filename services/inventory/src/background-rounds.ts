import type { Logger } from "pino";

export interface BackgroundRounds {
  /** Something to do arrived on this replica: run a round now, or right after the running one. */
  kick(): void;
  /** Stops scheduling rounds and waits for the running one. */
  stop(): Promise<void>;
}

/**
 * Runs `round` at once, then again `intervalMs` after each round ends, or sooner when the round
 * says when its next work is due (a retry's backoff). A failed round is logged (`failure`) and the
 * next one comes as usual. Between rounds nothing runs, so an idle replica costs one round per
 * interval.
 */
export function startBackgroundRounds(
  round: () => Promise<number | void>,
  options: { intervalMs: number; logger: Logger; failure: string },
): BackgroundRounds {
  let stopped = false;
  let again = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  const tick = () => {
    clearTimeout(timer);
    timer = undefined;
    again = false;
    let dueInMs: number | void;
    running = round()
      .then((due) => {
        dueInMs = due;
      })
      .catch((err) => options.logger.warn({ err }, options.failure))
      .finally(() => {
        running = undefined;
        if (stopped) return;
        const wait = again ? 0 : Math.min(options.intervalMs, Math.max(0, dueInMs ?? Infinity));
        timer = setTimeout(tick, wait);
      });
  };
  timer = setTimeout(tick, 0);
  return {
    kick() {
      if (stopped) return;
      if (running) again = true;
      else tick();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
