import { createEvent, type EventBus, type EventSubscription, orchestrationSubjects } from "@cloudforet/events";
import type { Logger } from "pino";

/** Committed state changes of instances, for InstanceService.Watch. */
export const STATE_SUBJECT = orchestrationSubjects.instanceStateChanged;
/** "Someone on this replica watches": replicas publish their changes on the bus only while they hear it. */
export const WATCHING_SUBJECT = orchestrationSubjects.instanceWatching;

const PRESENCE_EVERY_MS = 2_000;
/** A replica keeps publishing this long after the last presence it heard (a few missed beats). */
const PRESENCE_TTL_MS = 3 * PRESENCE_EVERY_MS;

/** One state change of one instance. */
export interface StateChange {
  id: string;
  sequenceId: string;
  domainId: string;
  tenantId: string;
  namespace: string;
  state: string;
  /** Absent when the reporter does not know it (a claim); the watch stream fills it in from what it saw. */
  previousState?: string;
  nextFireAt: string | null;
  updatedAt: string;
}

export type StateListener = (change: StateChange) => void;

/**
 * The state-change notifications of the engine: the instance pass and the scheduler report changes here (EngineEvents);
 * watch streams of this process hear them at once, and those of the other replicas over the bus.
 *
 * To keep the engine's hot path off the bus while nobody watches, a replica with open watch streams
 * announces it on WATCHING_SUBJECT every 2 s, and the replicas publish their changes on the bus
 * only while they hear such an announcement. Every replica has its own short-lived durable (it
 * must see every change, not share them), removed by the broker a minute after the replica stops.
 * A change made in the first moment of a remote watch can be missed this way; the watch stream's
 * slow re-read covers it.
 */
export class StateChanges {
  private readonly listeners = new Set<StateListener>();
  private subscription?: EventSubscription;
  private presenceTimer?: NodeJS.Timeout;
  private remoteWatchersUntil = 0;
  private closed = false;

  constructor(
    private readonly bus: EventBus,
    private readonly scope: string,
    private readonly engineId: string,
    private readonly logger: Logger,
  ) {}

  async listen(): Promise<void> {
    this.subscription = await this.bus.subscribe<{ scope?: string; from?: string; change?: StateChange }>({
      durable: `orchestration-state-${this.engineId.replace(/[^A-Za-z0-9_-]/g, "_")}`,
      subjects: [STATE_SUBJECT, WATCHING_SUBJECT],
      deliverPolicy: "new",
      inactiveThresholdMs: 60_000,
      handler: (event) => {
        const data = event.data;
        if (data?.scope !== this.scope || data.from === this.engineId) return;
        if (event.subject === WATCHING_SUBJECT) this.remoteWatchersUntil = Date.now() + PRESENCE_TTL_MS;
        else if (data.change) this.emit(data.change);
      },
    });
  }

  /** Streams currently watching in this process. */
  get watcherCount(): number {
    return this.listeners.size;
  }

  /** Registers a watch stream; returns its unsubscribe. */
  subscribe(listener: StateListener): () => void {
    this.listeners.add(listener);
    if (this.listeners.size === 1) this.startPresence();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stopPresence();
    };
  }

  /** A change this process committed (or is committing): local watchers now, the other replicas when they watch. */
  report(change: StateChange): void {
    this.emit(change);
    if (this.closed || Date.now() > this.remoteWatchersUntil) return;
    this.bus
      .publish(createEvent({ subject: STATE_SUBJECT, data: { scope: this.scope, from: this.engineId, change } }))
      .catch((err) => this.logger.debug({ err }, "state change not published; remote watchers re-read"));
  }

  private emit(change: StateChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (err) {
        this.logger.warn({ err }, "a watch listener failed");
      }
    }
  }

  private startPresence(): void {
    const announce = () => {
      if (this.closed) return;
      this.bus
        .publish(createEvent({ subject: WATCHING_SUBJECT, data: { scope: this.scope, from: this.engineId } }))
        .catch((err) => this.logger.debug({ err }, "watch presence not published"));
    };
    announce();
    this.presenceTimer = setInterval(announce, PRESENCE_EVERY_MS);
    this.presenceTimer.unref();
  }

  private stopPresence(): void {
    clearInterval(this.presenceTimer);
    this.presenceTimer = undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stopPresence();
    await this.subscription?.close();
  }
}
