import type { Notifications } from "@cloudforet/db";
import { ErrorCode, PlatformError } from "@cloudforet/errors";
import type { Caller } from "@cloudforet/runtime";
import type { Logger } from "pino";
import type { CollectionCredentials } from "../collection/collection-credentials";
import type { JobLauncher } from "../jobs/job-launcher";
import type { ClaimedFire, ScheduleRepository } from "./repository";
import { INVENTORY_SCHEDULES_CHANNEL } from "./schedule-notices";

export interface SchedulerOptions {
  schedules: ScheduleRepository;
  launcher: JobLauncher;
  credentials: CollectionCredentials;
  logger: Logger;
  /** Longest sleep when no NOTIFY can announce a schedule change (embedded PGlite, LISTEN down). */
  pollMs: number;
  /** Longest sleep while LISTENing (default 60 s): schedule changes NOTIFY, so this is a safety net. */
  idlePollMs?: number;
  notifications?: Notifications;
}

/** What a scheduled job is recorded as started by. */
export const SCHEDULE_STARTER = "schedule";

/**
 * Fires collector schedules. Sleeps until the earliest `next_fire_at` of any collector (no faster
 * polling), wakes when a schedule changes (NOTIFY), claims each due fire once across replicas
 * (ScheduleRepository.claimDueFire) and starts the collector's job under its service identity,
 * recording what happened: STARTED with the job, SKIPPED while the previous job runs, FAILED with why.
 */
export function startScheduler(options: SchedulerOptions): { stop(): Promise<void> } {
  const { schedules, logger, pollMs } = options;
  const idlePollMs = Math.max(options.idlePollMs ?? 60_000, pollMs);
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;

  const pass = async (): Promise<number> => {
    const cap = subscription?.listening ? idlePollMs : pollMs;
    try {
      for (;;) {
        if (stopped) return cap;
        const { due, claimed, skipped } = await schedules.claimDueFire();
        if (!due) break;
        if (skipped) logger.info({ collector_id: skipped.collectorId, job_id: skipped.jobId, scheduled_at: skipped.scheduledAt }, "schedule fire skipped: the previous job still runs");
        if (claimed) await fire(claimed);
      }
      const until = await schedules.msUntilNextFire();
      return until === undefined ? cap : Math.min(cap, Math.max(until + 5, 20));
    } catch (err) {
      logger.error({ err }, "schedule pass failed");
      return Math.min(pollMs, 5_000);
    }
  };

  const fire = async ({ collector, fireId, scheduledAt }: ClaimedFire): Promise<void> => {
    const log = logger.child({ collector_id: collector.collectorId, fire_id: fireId, scheduled_at: scheduledAt });
    try {
      const credential = options.credentials.openServiceCredential(collector.sealedServiceCredential, collector.domainId, collector.collectorId);
      if (!credential) {
        throw new PlatformError(ErrorCode.INVALID_PARAMETER, "the collector has no service identity: a workspace owner must call EnableSchedule");
      }
      const authorization = await options.credentials.authorizationFor(credential);
      // The service identity's own rights: WORKSPACE_OWNER of the collector's workspace, nothing more.
      const caller: Caller = {
        domainId: collector.domainId,
        userId: SCHEDULE_STARTER,
        workspaceIds: [collector.workspaceId],
        domainAdmin: false,
        roles: [{ role: "WORKSPACE_OWNER", workspace_id: collector.workspaceId }],
      };
      const job = await options.launcher.launch(
        { caller, authorization, startedBy: SCHEDULE_STARTER, serviceCredential: credential },
        { collectorId: collector.collectorId, name: `${collector.name} (scheduled)`.slice(0, 255), serviceAccountIds: [], options: {}, via: "collect" },
      );
      await options.schedules.recordOutcome(fireId, "STARTED", job.jobId, "");
      log.info({ job_id: job.jobId }, "schedule fired");
    } catch (err) {
      // A human's Collect won the race for the collector: the fire is a skip like any other.
      const conflict = err instanceof PlatformError && err.code === ErrorCode.CONFLICT;
      const reason = err instanceof PlatformError ? `${err.code}: ${err.message}` : `${ErrorCode.UNKNOWN}: ${(err as Error).message}`;
      await options.schedules.recordOutcome(fireId, conflict ? "SKIPPED" : "FAILED", "", reason).catch((recordErr) => log.error({ err: recordErr }, "could not record a schedule fire"));
      if (conflict) log.info({ reason }, "schedule fire skipped: a job of the collector is running");
      else log.warn({ err }, "schedule fire could not start a job");
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
      again = true;
      return;
    }
    running = (async () => {
      let delay: number;
      do {
        again = false;
        delay = await pass();
      } while (again && !stopped);
      schedule(delay);
    })().finally(() => (running = undefined));
  }

  const subscription = options.notifications?.listen(INVENTORY_SCHEDULES_CHANNEL, { onNotify: run, onListening: run, onLost: run });
  schedule(0);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await subscription?.close();
      await running;
    },
  };
}
