import type { Notifications } from "@cloudforet/db";
import type { Logger } from "pino";
import type { PullCollection } from "../collection/pull-collection";
import type { JobTasks } from "../job-tasks/job-tasks";
import { INVENTORY_JOBS_CHANNEL } from "./job-notices";
import type { JobRepository } from "./repository";

export interface TimeoutSweeperOptions {
  jobs: JobRepository;
  pull: PullCollection;
  logger: Logger;
  /** Longest sleep between looks when no NOTIFY can announce new jobs (embedded PGlite, LISTEN down). */
  intervalMs: number;
  /** Longest sleep while LISTENing on INVENTORY_JOBS_CHANNEL (default 60 s): new jobs NOTIFY, so this is a safety net. */
  idleIntervalMs?: number;
  /** Where to LISTEN (`notificationsOf(db)`); none: look every `intervalMs` at most. */
  notifications?: Notifications;
  /**
   * INVENTORY_PLUGIN_IDLE_TIMEOUT_S in ms, with the tasks to fail: a pull task with no report for this
   * long (its plugin stopped answering but kept the stream open) fails with the plugin's last error
   * instead of staying IN_PROGRESS until the job's timeout. Unset: not checked.
   */
  silentPlugins?: { tasks: JobTasks; idleMs: number };
}

/**
 * Ends jobs that outlived their `timeout` as TIMEOUT. It sleeps until the earliest running job's
 * timeout (a new job NOTIFYs, so its timeout is taken into account), instead of scanning on an
 * interval. Replicas wake at the same time: each job is claimed by one of them
 * (JobRepository.timeOutExpired), and only that one stops its stream and logs it.
 */
export function startTimeoutSweeper(options: TimeoutSweeperOptions): { stop(): Promise<void> } {
  const { jobs, pull, logger, intervalMs } = options;
  const idleIntervalMs = Math.max(options.idleIntervalMs ?? 60_000, intervalMs);
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;

  const silentPlugins = options.silentPlugins;
  /** Fails tasks whose plugin went silent; returns when to look again (a silent task is due at most idleMs from now). */
  const failSilentTasks = async (): Promise<number> => {
    if (!silentPlugins) return Number.POSITIVE_INFINITY;
    for (const task of await silentPlugins.tasks.failSilentPullTasks(silentPlugins.idleMs)) {
      logger.warn({ job_id: task.jobId, job_task_id: task.jobTaskId, collector_id: task.collectorId }, "the plugin stopped answering: task failed");
    }
    return Math.max(1_000, Math.floor(silentPlugins.idleMs / 4));
  };

  /** One look: sweeps when a timeout is due; returns how long to sleep. */
  const pass = async (): Promise<number> => {
    const cap = Math.min(subscription?.listening ? idleIntervalMs : intervalMs, await failSilentTasks().catch((err) => {
      logger.error({ err }, "silent plugin sweep failed");
      return intervalMs;
    }));
    try {
      const until = await jobs.msUntilNextTimeout();
      if (until === undefined) return cap;
      if (until > 0) return Math.min(until + 5, cap);
      const ended = await jobs.timeOutExpired();
      for (const job of ended) {
        pull.stop(job.jobId);
        logger.warn({ job_id: job.jobId, collector_id: job.collectorId }, "job timed out");
      }
      // Nothing ended although one is due: another replica holds it right now; look again shortly, not in a spin.
      return ended.length > 0 ? 0 : Math.min(intervalMs, 1_000);
    } catch (err) {
      logger.error({ err }, "timeout sweep failed");
      return intervalMs;
    }
  };

  const schedule = (ms: number) => {
    clearTimeout(timer);
    if (stopped) return;
    timer = setTimeout(run, ms);
    timer.unref();
  };

  function run(): void {
    if (running) {
      again = true; // woken mid-pass: its wait may be stale
      return;
    }
    running = (async () => {
      let delay: number;
      do {
        again = false;
        delay = await pass();
      } while ((again || delay === 0) && !stopped);
      schedule(delay);
    })().finally(() => (running = undefined));
  }

  const subscription = options.notifications?.listen(INVENTORY_JOBS_CHANNEL, { onNotify: run, onListening: run, onLost: run });
  schedule(Math.min(intervalMs, 1_000));
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await subscription?.close();
      await running;
    },
  };
}
