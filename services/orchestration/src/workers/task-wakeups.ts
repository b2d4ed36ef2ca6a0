import { createEvent, type EventBus, type EventSubscription, orchestrationSubjects } from "@cloudforet/events";
import type { Logger } from "pino";
import type { TaskWaiters } from "./task-waiters";

export const TASKS_READY_SUBJECT = orchestrationSubjects.workerTaskReady;

/** Announcements leaving this process are batched over this many ms (one event carries every key). */
const BATCH_MS = 5;
/**
 * A dispatch is announced when the engine reports its next commit; if that report never comes (the
 * transaction rolled back, or another path committed it), the note is announced anyway after this
 * long — a wake-up for a task that is not there only costs the woken pollers one claim query.
 */
const UNCOMMITTED_NOTE_MS = 100;

interface ReadyEvent {
  scope?: string;
  from?: string;
  /** [tenant, handler, how many] with tasks ready. */
  keys?: [string, string, number][];
}

const keyOf = (tenant: string, handlerName: string) => `${tenant}\u0000${handlerName}`;

/** Ready tasks per (tenant, handler), summed until they are announced. */
class ReadyCounts {
  private readonly counts = new Map<string, [string, string, number]>();

  add(tenant: string, handlerName: string, count: number): void {
    const key = keyOf(tenant, handlerName);
    const entry = this.counts.get(key);
    if (entry) entry[2] += count;
    else this.counts.set(key, [tenant, handlerName, count]);
  }

  /** Everything counted so far, and a fresh start. */
  take(): [string, string, number][] {
    const entries = [...this.counts.values()];
    this.counts.clear();
    return entries;
  }
}

/**
 * Tells long-polling workers that tasks are ready: those of this process directly, those of the
 * other replicas over the bus. Unlike the engine's wake-ups (one replica claims), every replica
 * must hear each announcement, so each process has its own consumer (removed by the broker once the
 * process is gone).
 */
export class TaskWakeups {
  private subscription?: EventSubscription;
  /** Dispatched in a transaction that has not been reported committed yet. */
  private readonly noted = new ReadyCounts();
  private noteTimer?: NodeJS.Timeout;
  /** Ready, waiting for the batch to leave. */
  private readonly outgoing = new ReadyCounts();
  private batchTimer?: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly bus: EventBus,
    private readonly scope: string,
    private readonly engineId: string,
    private readonly waiters: TaskWaiters,
    private readonly logger: Logger,
  ) {}

  async listen(): Promise<void> {
    this.subscription = await this.bus.subscribe<ReadyEvent>({
      durable: `orchestration-tasks-${this.engineId.replace(/[^A-Za-z0-9_-]/g, "_")}`,
      subjects: TASKS_READY_SUBJECT,
      deliverPolicy: "new",
      inactiveThresholdMs: 60_000,
      handler: (event) => {
        const data = event.data;
        if (data?.scope !== this.scope || data.from === this.engineId || !Array.isArray(data.keys)) return;
        for (const [tenant, handlerName, count] of data.keys) this.waiters.notify(tenant, handlerName, typeof count === "number" ? count : undefined);
      },
    });
  }

  /** A task of (tenant, handler) was inserted in a transaction that is about to commit. */
  noteDispatch(tenant: string, handlerName: string): void {
    this.noted.add(tenant, handlerName, 1);
    if (!this.noteTimer && !this.closed) {
      this.noteTimer = setTimeout(() => this.committed(), UNCOMMITTED_NOTE_MS);
      this.noteTimer.unref();
    }
  }

  /** The engine committed a transaction: the dispatches noted before it are visible now. */
  committed(): void {
    clearTimeout(this.noteTimer);
    this.noteTimer = undefined;
    for (const [tenant, handlerName, count] of this.noted.take()) this.ready(tenant, handlerName, count);
  }

  /** `count` tasks of (tenant, handler) are in the queue now (committed): wake pollers here and elsewhere. */
  ready(tenant: string, handlerName: string, count = 1): void {
    this.waiters.notify(tenant, handlerName, count);
    if (this.closed) return;
    this.outgoing.add(tenant, handlerName, count);
    if (!this.batchTimer) {
      this.batchTimer = setTimeout(() => this.publish(), BATCH_MS);
      this.batchTimer.unref();
    }
  }

  private publish(): void {
    this.batchTimer = undefined;
    const keys = this.outgoing.take();
    if (keys.length === 0 || this.closed) return;
    this.bus
      .publish(createEvent({ subject: TASKS_READY_SUBJECT, data: { scope: this.scope, from: this.engineId, keys } satisfies ReadyEvent }))
      .catch((err) => this.logger.debug({ err }, "task wake-up not published; the other replicas' pollers re-check within a second"));
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.noteTimer);
    clearTimeout(this.batchTimer);
    await this.subscription?.close();
  }
}
