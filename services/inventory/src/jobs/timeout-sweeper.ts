import type { Logger } from "pino";
import type { PullCollection } from "../collection/pull-collection";
import type { JobStore } from "./job-store";

/**
 * Ends jobs that outlived their `timeout` as TIMEOUT, every `intervalMs`. Each job is ended in
 * its own locked transaction, so replicas may sweep at the same time.
 */
export function startTimeoutSweeper(options: { store: JobStore; pull: PullCollection; logger: Logger; intervalMs: number }): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  const sweep = async () => {
    try {
      for (const job of await options.store.timeOutExpired()) {
        options.pull.stop(job.jobId);
        options.logger.warn({ job_id: job.jobId, collector_id: job.collectorId }, "job timed out");
      }
    } catch (err) {
      options.logger.error({ err }, "timeout sweep failed");
    }
  };
  const timer = setInterval(() => {
    running ??= sweep().finally(() => (running = undefined));
  }, options.intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
