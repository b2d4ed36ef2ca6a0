import type { Logger } from "pino";
import { decodeEvent, encodeEvent, type PlatformEvent } from "./event";
import { eventTracing, withoutTraceContext } from "./event-tracing";
import type { DeliveryContext, EventBus, EventHandler, EventSubscription, PublishResult, SubscribeOptions } from "./event-bus";
import { CatchUp } from "./catch-up";
import { EventBusError, PublishFailedError } from "./event-errors";
import { assertSubjectPattern, subjectMatches } from "./subject-pattern";
import { isLastDelivery, redeliveryDelay, resolveRedelivery, type RedeliveryPolicy } from "./redelivery-policy";

export interface InProcessBusOptions {
  logger: Logger;
  /** Default redelivery for subscriptions that do not set their own. */
  redelivery?: Partial<RedeliveryPolicy>;
  /** How long an event id is remembered for dedupe (default 2 minutes, JetStream's default). */
  duplicateWindowMs?: number;
  /** Events kept for durables created later or resuming (default 10,000; oldest dropped first). */
  maxRetainedEvents?: number;
}

interface StoredEvent {
  sequence: number;
  subject: string;
  wire: Uint8Array;
  /** The message's trace context, kept beside the body as JetStream keeps it in a header. */
  traceparent?: string;
}

interface PendingRedelivery {
  stored: StoredEvent;
  attempt: number;
  dueAt: number;
}

/** A durable's position and pending retries, kept across subscribe/close like a JetStream consumer. */
interface DurableState {
  name: string;
  subjects: string[];
  nextSequence: number;
  redeliveries: PendingRedelivery[];
  active?: ActiveSubscription;
  /** Later subscribers of the same durable (replicas started in one process), in order; the first takes over when the active one closes. */
  standby: ActiveSubscription[];
}

interface ActiveSubscription {
  handler: EventHandler;
  policy: RedeliveryPolicy;
  running: boolean;
  closed: boolean;
  idle: Promise<void>;
  /** Reached when the durable's position passes the last event published before the subscribe. */
  catchUp: CatchUp;
  catchUpTo: number;
  timer?: NodeJS.Timeout;
}

/**
 * The EventBus of embedded mode: all services in one process share it. Like JetStream it dedupes
 * by event id, keeps a position per durable name (each durable sees each event once, in order),
 * redelivers with backoff when a handler throws, and delivers asynchronously. Nothing survives a
 * restart; the services' outboxes are what make events durable.
 */
export class InProcessBus implements EventBus {
  readonly kind = "in-process" as const;
  private readonly log: Logger;
  private readonly redelivery: Partial<RedeliveryPolicy> | undefined;
  private readonly duplicateWindowMs: number;
  private readonly maxRetainedEvents: number;
  private readonly events: StoredEvent[] = [];
  private nextSequence = 1;
  private readonly seenIds = new Map<string, number>();
  private readonly durables = new Map<string, DurableState>();
  private closed = false;

  constructor(options: InProcessBusOptions) {
    this.log = options.logger.child({ component: "event-bus", bus: "in-process" });
    this.redelivery = options.redelivery;
    this.duplicateWindowMs = options.duplicateWindowMs ?? 120_000;
    this.maxRetainedEvents = options.maxRetainedEvents ?? 10_000;
  }

  async publish(event: PlatformEvent): Promise<PublishResult> {
    if (this.closed) throw new PublishFailedError("the in-process event bus is closed");
    const wire = encodeEvent(withoutTraceContext(event));
    const send = async (traceparent: string | undefined): Promise<PublishResult> => {
      const now = Date.now();
      this.forgetExpiredIds(now);
      if (this.seenIds.has(event.id)) return { duplicate: true };
      this.seenIds.set(event.id, now);

      this.events.push({ sequence: this.nextSequence++, subject: event.subject, wire, ...(traceparent ? { traceparent } : {}) });
      if (this.events.length > this.maxRetainedEvents) this.events.shift();
      for (const durable of this.durables.values()) this.schedule(durable);
      return { duplicate: false };
    };
    const tracing = eventTracing();
    return tracing ? tracing.publish(event, event.traceparent, send) : send(event.traceparent);
  }

  async subscribe<TData = unknown>(options: SubscribeOptions<TData>): Promise<EventSubscription> {
    if (this.closed) throw new EventBusError("the in-process event bus is closed");
    const subjects = [options.subjects].flat();
    subjects.forEach(assertSubjectPattern);

    let durable = this.durables.get(options.durable);
    if (!durable) {
      durable = {
        name: options.durable,
        subjects,
        nextSequence: options.deliverPolicy === "new" ? this.nextSequence : (this.events[0]?.sequence ?? this.nextSequence),
        redeliveries: [],
        standby: [],
      };
      this.durables.set(options.durable, durable);
    }
    const active: ActiveSubscription = {
      handler: options.handler as EventHandler,
      policy: resolveRedelivery(this.redelivery, options.redelivery),
      running: false,
      closed: false,
      idle: Promise.resolve(),
      catchUp: new CatchUp(),
      catchUpTo: this.nextSequence - 1,
    };
    if (durable.active) {
      // A second replica in this process: like a second JetStream pull client of one consumer, it shares
      // the position, so each event still reaches one of them. It stands by and takes over on close.
      active.catchUp.done();
      durable.standby.push(active);
    } else {
      durable.subjects = subjects;
      durable.active = active;
      this.schedule(durable);
    }

    const state = durable;
    return {
      durable: options.durable,
      caughtUp: active.catchUp.promise,
      close: async () => {
        if (active.closed) return;
        active.closed = true;
        active.catchUp.abandon(options.durable);
        clearTimeout(active.timer);
        state.standby = state.standby.filter((s) => s !== active);
        if (state.active === active) {
          state.active = state.standby.shift();
          if (state.active) this.schedule(state);
        }
        await active.idle;
      },
    };
  }

  isConnected(): boolean {
    return !this.closed;
  }

  async close(): Promise<void> {
    this.closed = true;
    const running = [...this.durables.values()].flatMap((d) => [...(d.active ? [d.active] : []), ...d.standby]);
    for (const durable of this.durables.values()) {
      durable.active?.catchUp.abandon(durable.name);
      durable.active = undefined;
      durable.standby = [];
    }
    for (const active of running) {
      active.closed = true;
      clearTimeout(active.timer);
    }
    await Promise.all(running.map((a) => a.idle));
  }

  private forgetExpiredIds(now: number): void {
    for (const [id, seenAt] of this.seenIds) {
      if (now - seenAt < this.duplicateWindowMs) break;
      this.seenIds.delete(id);
    }
  }

  /** Starts the durable's delivery loop on a later tick unless it is already running. */
  private schedule(durable: DurableState): void {
    const active = durable.active;
    if (!active || active.closed || active.running) return;
    active.running = true;
    active.idle = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.deliverAll(durable, active));
  }

  private async deliverAll(durable: DurableState, active: ActiveSubscription): Promise<void> {
    try {
      for (;;) {
        if (active.closed) return;
        const next = this.takeNext(durable);
        if (!next) break;
        await this.deliver(durable, active, next.stored, next.attempt);
        if (durable.nextSequence > active.catchUpTo) active.catchUp.done();
      }
      // Nothing left to take: every retained event this durable wants was delivered.
      if (!active.closed) active.catchUp.done();
    } finally {
      active.running = false;
    }
    this.armRedeliveryTimer(durable, active);
  }

  /** A due redelivery first, else the next retained event matching the durable's subjects. */
  private takeNext(durable: DurableState): { stored: StoredEvent; attempt: number } | undefined {
    const now = Date.now();
    const due = durable.redeliveries.findIndex((r) => r.dueAt <= now);
    if (due >= 0) {
      const [redelivery] = durable.redeliveries.splice(due, 1);
      return { stored: redelivery.stored, attempt: redelivery.attempt };
    }
    const oldest = this.events[0]?.sequence ?? this.nextSequence;
    if (durable.nextSequence < oldest) {
      this.log.warn({ durable: durable.name, skipped: oldest - durable.nextSequence }, "durable fell behind the retained events");
      durable.nextSequence = oldest;
    }
    for (let i = durable.nextSequence - oldest; i < this.events.length; i++) {
      const stored = this.events[i];
      durable.nextSequence = stored.sequence + 1;
      if (durable.subjects.some((pattern) => subjectMatches(pattern, stored.subject))) return { stored, attempt: 1 };
    }
    return undefined;
  }

  private async deliver(durable: DurableState, active: ActiveSubscription, stored: StoredEvent, attempt: number) {
    // Decode a fresh copy per delivery, as from the wire: handlers never share or mutate one object.
    const event = decodeEvent(stored.wire);
    const context: DeliveryContext = { durable: durable.name, attempt, redelivered: attempt > 1 };
    try {
      const tracing = eventTracing();
      if (tracing) await tracing.consume(event, stored.traceparent, durable.name, async () => active.handler(event, context));
      else await active.handler(event, context);
    } catch (err) {
      const fields = { durable: durable.name, event_id: event.id, subject: event.subject, attempt, err };
      if (isLastDelivery(attempt, active.policy)) {
        this.log.error(fields, "event handler failed on its last delivery; event dropped");
        return;
      }
      const delayMs = redeliveryDelay(attempt, active.policy);
      this.log.warn({ ...fields, redeliver_in_ms: delayMs }, "event handler failed; redelivering");
      durable.redeliveries.push({ stored, attempt: attempt + 1, dueAt: Date.now() + delayMs });
    }
  }

  private armRedeliveryTimer(durable: DurableState, active: ActiveSubscription): void {
    clearTimeout(active.timer);
    if (active.closed || durable.redeliveries.length === 0) return;
    const dueAt = Math.min(...durable.redeliveries.map((r) => r.dueAt));
    active.timer = setTimeout(() => this.schedule(durable), Math.max(dueAt - Date.now(), 0));
    active.timer.unref?.();
  }
}
