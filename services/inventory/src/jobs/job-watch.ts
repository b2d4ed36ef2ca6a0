import { randomUUID } from "node:crypto";
import { EventEmitter, on } from "node:events";
import type { EventBus, EventSubscription, PlatformEvent } from "@cloudforet/events";
import type { Logger } from "pino";
import { JOB_SUBJECTS, type JobEventData } from "./job-events";

/** One job or task change as watchers receive it. */
export interface JobChange {
  subject: string;
  occurredAt: string;
  data: JobEventData;
}

/** Job changes may have been missed (the bus had to recreate this process's consumer): re-read the job. */
export interface ChangesMissed {
  missed: true;
}

const CHANGES_MISSED: ChangesMissed = Object.freeze({ missed: true });
const EVERY_JOB = "*";

/**
 * Follows every job and task event of the bus with one subscription per process and hands each
 * to whoever watches that job (JobService.Watch, the pull loop's stop signal). Events reach every
 * replica, so a watcher sees changes made anywhere.
 */
export class JobWatchHub {
  private readonly changes = new EventEmitter();
  private subscription?: EventSubscription;

  constructor(
    private readonly bus: EventBus,
    private readonly logger: Logger,
  ) {
    this.changes.setMaxListeners(0);
  }

  async start(): Promise<void> {
    this.subscription = await this.bus.subscribe<JobEventData>({
      // A durable of this process alone: every replica gets every event.
      durable: `inventory-job-watch-${randomUUID().slice(0, 8)}`,
      subjects: JOB_SUBJECTS,
      deliverPolicy: "new",
      inactiveThresholdMs: 60_000,
      handler: (event: PlatformEvent<JobEventData>) => {
        if (!event.data?.job_id) return;
        this.changes.emit(event.data.job_id, { subject: event.subject, occurredAt: event.occurredAt, data: event.data } satisfies JobChange);
        this.changes.emit(EVERY_JOB, { subject: event.subject, occurredAt: event.occurredAt, data: event.data } satisfies JobChange);
      },
      // The consumer delivers new events only, so what happened while it was gone is lost: tell every watcher.
      onGap: () => {
        // ("error" is the listener `on()` adds next to each job's.)
        for (const jobId of this.changes.eventNames()) if (jobId !== EVERY_JOB && jobId !== "error") this.changes.emit(jobId, CHANGES_MISSED);
      },
    });
    this.logger.debug({ durable: this.subscription.durable }, "following job events");
  }

  /**
   * Changes of one job until `signal` aborts, buffered from this call on: call it before reading
   * the job's snapshot so nothing between the two is lost. A `ChangesMissed` means the follower
   * must read the job again.
   */
  follow(jobId: string, signal: AbortSignal): AsyncIterable<JobChange | ChangesMissed> {
    const events = on(this.changes, jobId, { signal });
    return {
      async *[Symbol.asyncIterator]() {
        try {
          for await (const [change] of events) yield change as JobChange | ChangesMissed;
        } catch (err) {
          if (!signal.aborted) throw err;
        }
      },
    };
  }

  /** Calls `listener` for every job change; returns the unsubscribe function. */
  onEveryChange(listener: (change: JobChange) => void): () => void {
    this.changes.on(EVERY_JOB, listener);
    return () => this.changes.off(EVERY_JOB, listener);
  }

  async close(): Promise<void> {
    await this.subscription?.close();
  }
}
