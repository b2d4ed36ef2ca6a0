import type { Database } from "@cloudforet/db";
import type { Logger } from "pino";
import { pruneFinishedJobs } from "./repository";

export interface JobPrunerOptions {
  db: Database;
  logger: Logger;
  /** INVENTORY_JOB_RETENTION_DAYS: finished jobs, their tasks and schedule fires older than this go. */
  retentionDays: number;
  /** INVENTORY_JOB_PRUNE_INTERVAL_S in ms: how often a replica tries (only one prunes at a time). */
  intervalMs: number;
}

/**
 * Job hygiene: every `intervalMs` (and shortly after start) removes jobs that ended more than
 * `retentionDays` ago, with their tasks, and old schedule fires. Replicas may all try; the advisory
 * lock in `pruneFinishedJobs` lets one of them do it. Running jobs are never touched.
 */
export function startJobPruner(options: JobPrunerOptions): { stop(): Promise<void> } {
  const { db, logger, retentionDays, intervalMs } = options;
  let stopped = false;
  let running: Promise<void> | undefined;
  const prune = async () => {
    try {
      const before = new Date(Date.now() - retentionDays * 24 * 3600 * 1000);
      const removed = await pruneFinishedJobs(db, before);
      if (removed && removed.jobs + removed.fires > 0) logger.info({ ...removed, retention_days: retentionDays }, "pruned finished jobs");
    } catch (err) {
      logger.error({ err }, "pruning finished jobs failed");
    }
  };
  const tick = () => {
    if (stopped || running) return;
    running = prune().finally(() => (running = undefined));
  };
  const first = setTimeout(tick, Math.min(intervalMs, 5_000));
  const timer = setInterval(tick, intervalMs);
  first.unref();
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearTimeout(first);
      clearInterval(timer);
      await running;
    },
  };
}
