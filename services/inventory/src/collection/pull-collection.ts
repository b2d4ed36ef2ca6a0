import type { ChannelSubscription, Notifications } from "@cloudforet/db";
import { withTraceparent } from "@cloudforet/runtime";
import { INVENTORY_JOBS_CHANNEL } from "../jobs/job-notices";
import { collectTask, Stopped, type CollectTaskDeps, type StopReason } from "./collect-task";
import type { ClaimedTask, PullLeases } from "./pull-leases";

export interface PullCollectionOptions extends CollectTaskDeps {
  leases: PullLeases;
  /** Pull tasks this replica streams at the same time. */
  concurrency: number;
  /** How long a lease lasts unless renewed; renewed every third of it. */
  leaseMs: number;
  /** How often to look for claimable tasks when nothing wakes the loop earlier and no NOTIFY can. */
  pollMs: number;
  /**
   * Longest idle sleep while LISTENing on INVENTORY_JOBS_CHANNEL (default 30 s): new and handed-back
   * tasks NOTIFY, and the loop wakes when another replica's lease ends, so this is a safety net.
   */
  idlePollMs?: number;
  /** Where to LISTEN (`notificationsOf(db)`); none (PGlite): look every `pollMs`. */
  notifications?: Notifications;
}

interface RunningTask {
  jobId: string;
  stop(reason: StopReason): void;
  done: Promise<void>;
}

/**
 * Pull mode as leased work in Postgres: each pull task is claimed by one replica (PullLeases),
 * which streams the plugin's Collect, upserts what it yields into cloud-service in batches and
 * after every batch stores counters and checkpoint in one transaction, renewing its lease as it
 * goes. Shutting down hands tasks back; a replica that dies stops renewing and its tasks are
 * reclaimed when the lease expires. Whoever takes a task over re-runs Collect (it has no resume
 * token) and skips the items before the checkpoint, so counters come out exact.
 */
export class PullCollection {
  private readonly running = new Map<string, RunningTask>();
  private closed = false;
  private kicked = false;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private subscription: ChannelSubscription | undefined;

  constructor(private readonly options: PullCollectionOptions) {}

  /** Starts the claim loop (declared in service.ts). */
  start(): void {
    if (this.loop) return;
    // A NOTIFY means a task to claim may have appeared; a (re)established or lost LISTEN means some may have gone unheard.
    const kick = () => this.kick();
    this.subscription = this.options.notifications?.listen(INVENTORY_JOBS_CHANNEL, { onNotify: kick, onListening: kick, onLost: kick });
    this.loop = this.claimLoop();
  }

  /** A job was created here, or a slot freed: look for tasks now rather than at the next poll. */
  kick(): void {
    this.kicked = true;
    this.wake?.();
  }

  /** What the job runs as (the collector's service identity, else the caller), sealed so that any replica can collect as it. */
  sealAuthorization(authorization: string | null, jobId: string, serviceCredential?: string): string {
    return this.options.credentials.seal(authorization, jobId, serviceCredential);
  }

  /** Stops this replica's streams of a job (it was canceled or timed out). */
  stop(jobId: string): void {
    for (const task of this.running.values()) if (task.jobId === jobId) task.stop("ended");
  }

  /** Graceful shutdown: stops claiming, finishes the batches being written, hands every task back. */
  async close(): Promise<void> {
    this.closed = true;
    await this.subscription?.close();
    this.wake?.();
    await this.loop;
    for (const task of this.running.values()) task.stop("handed back");
    await Promise.all([...this.running.values()].map((task) => task.done));
  }

  private async claimLoop(): Promise<void> {
    const { leases, logger, replicaId, leaseMs, pollMs, concurrency } = this.options;
    while (!this.closed) {
      this.kicked = false;
      let delay = pollMs;
      try {
        const room = concurrency - this.running.size;
        if (room > 0) {
          const claimedTasks = await leases.claim(replicaId, leaseMs, room);
          for (const claimed of claimedTasks) {
            if (claimed.reclaimedFrom) logger.warn({ job_task_id: claimed.task.jobTaskId, previous_owner: claimed.reclaimedFrom, checkpoint: claimed.task.checkpoint }, "reclaimed a pull task whose lease expired");
            this.run(claimed);
          }
          if (claimedTasks.length === 0) delay = await this.idleDelay();
        }
      } catch (err) {
        logger.error({ err }, "could not claim pull tasks");
      }
      if (this.kicked || this.closed) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  /**
   * Nothing to claim: sleep until another replica's lease ends (a dead replica's task is taken over
   * then), at most `idlePollMs` while a NOTIFY can wake us and `pollMs` otherwise.
   */
  private async idleDelay(): Promise<number> {
    const { leases, pollMs } = this.options;
    const cap = this.subscription?.listening ? Math.max(this.options.idlePollMs ?? 30_000, pollMs) : pollMs;
    const until = await leases.msUntilClaimable([...this.running.keys()]);
    // A few ms past the lease's end, so the claim sees it expired; a floor so rows another replica is claiming cannot spin us.
    return until === undefined ? cap : Math.min(cap, Math.max(until + 10, 50));
  }

  private run(claimed: ClaimedTask): void {
    const { leases, logger, replicaId, leaseMs } = this.options;
    const taskId = claimed.task.jobTaskId;
    // The plugin's stream and the writes stop apart: a replica handing back stops reading but
    // lets the batch being written finish and be checkpointed.
    const streaming = new AbortController();
    const writing = new AbortController();
    let reason: StopReason | undefined;
    const stop = (why: StopReason) => {
      if (reason) return;
      reason = why;
      streaming.abort(new Stopped(why));
      if (why !== "handed back") writing.abort(new Stopped(why));
    };
    let renewing: Promise<void> | undefined;
    const renewal = setInterval(() => {
      renewing ??= leases
        .renew(taskId, replicaId, leaseMs)
        .then((state) => {
          if (state === "lost") stop("lease lost");
          if (state === "ended") stop("ended");
        })
        .catch((err) => logger.warn({ err, job_task_id: taskId }, "could not renew a pull lease"))
        .finally(() => (renewing = undefined));
    }, Math.max(100, Math.floor(leaseMs / 3)));
    // In the trace of the call that created the task (Collect), though a claim loop runs it: the
    // plugin call, the writes to cloud-service and the job's end events continue that trace.
    const attributes = { "cloudforet.job_id": claimed.task.jobId, "cloudforet.task_id": taskId };
    const done = withTraceparent(claimed.task.traceparent, "collect task", attributes, () => collectTask(this.options, claimed, streaming.signal, writing.signal, () => reason))
      .catch((err) => logger.error({ err, job_task_id: taskId }, "pull collection failed"))
      .finally(async () => {
        clearInterval(renewal);
        streaming.abort(new Stopped("ended"));
        await renewing;
        if (reason === "handed back") await leases.release(taskId, replicaId).catch((err) => logger.warn({ err, job_task_id: taskId }, "could not hand a pull task back"));
        this.running.delete(taskId);
        if (!this.closed) this.kick();
      });
    this.running.set(taskId, { jobId: claimed.task.jobId, stop, done });
  }

}
