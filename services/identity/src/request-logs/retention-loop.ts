import type { Logger } from "pino";
import type { RequestLogRules } from "./request-logs";

/**
 * Deletes request logs older than the retention period: once at start, then every `intervalMs`.
 * Each replica runs it; the deletes are idempotent, so replicas overlapping costs one empty delete.
 */
export function startRetentionLoop(rules: RequestLogRules, options: { retentionDays: number; intervalMs: number }, logger: Logger): { stop(): void } {
  let running: Promise<void> | undefined;
  const prune = () => {
    if (running) return;
    running = rules
      .prune(options.retentionDays)
      .then((deleted) => {
        if (deleted > 0) logger.info({ deleted, retention_days: options.retentionDays }, "request logs pruned");
      })
      .catch((err: unknown) => logger.warn({ err: err instanceof Error ? err.message : String(err) }, "request log pruning failed; retrying at the next interval"))
      .finally(() => {
        running = undefined;
      });
  };
  const timer = setInterval(prune, options.intervalMs);
  timer.unref();
  prune();
  return { stop: () => clearInterval(timer) };
}
