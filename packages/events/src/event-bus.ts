import type { PlatformEvent } from "./event";
import type { RedeliveryPolicy } from "./redelivery-policy";

/** Facts about one delivery, handed to the handler next to the event. */
export interface DeliveryContext {
  durable: string;
  /** 1 for the first delivery, 2 for the first redelivery, … */
  attempt: number;
  redelivered: boolean;
}

/**
 * Handles one event. Resolving acknowledges it; throwing makes the bus redeliver it later with
 * backoff. The same event can arrive more than once, so handlers must be idempotent (dedupe on
 * `event.id`, e.g. with `ProcessedEvents`).
 */
export type EventHandler<TData = unknown> = (event: PlatformEvent<TData>, context: DeliveryContext) => Promise<void> | void;

export interface SubscribeOptions<TData = unknown> {
  /** The durable consumer's name: it keeps its position across restarts and gets each event once. */
  durable: string;
  /** Subjects to receive; NATS wildcards (`*`, trailing `>`) allowed. */
  subjects: string | string[];
  handler: EventHandler<TData>;
  redelivery?: Partial<RedeliveryPolicy>;
  /** Where a durable that does not exist yet starts: all retained events (default) or only new ones. */
  deliverPolicy?: "all" | "new";
  /**
   * Removes the durable after this long without a subscriber. For consumers that belong to one
   * process (each keeps its own state), so they do not pile up on the broker. Such a durable is
   * never resumed by another process, so its acks are sent without waiting for the broker's
   * confirmation; and when the broker drops it while this process is cut off, the bus recreates it.
   */
  inactiveThresholdMs?: number;
  /**
   * Events pulled ahead (default: the bus's). A follower that replays a long stream with a cheap
   * handler sets it high, so the replay is a few round trips instead of one per event.
   */
  prefetch?: number;
  /**
   * Called when events may have been missed: the broker dropped the durable (e.g. after this
   * process was cut off longer than `inactiveThresholdMs`) and the bus recreated it. A durable
   * delivering "all" resumes after the last event it handled; one delivering "new" resumes at new
   * events, so its subscriber should re-read the state it follows.
   */
  onGap?: (gap: SubscriptionGap) => void;
}

export interface SubscriptionGap {
  durable: string;
  reason: string;
}

export interface EventSubscription {
  readonly durable: string;
  /**
   * Resolves once every event retained for this durable when it subscribed has been handled (at
   * once for a durable delivering "new"), so a follower can wait until its state is current.
   * Rejects when the subscription closes first.
   */
  readonly caughtUp: Promise<void>;
  /** Stops delivering; waits for a handler that is running. The durable keeps its position. */
  close(): Promise<void>;
}

export interface PublishResult {
  /** True when the bus had already accepted an event with this id (within its dedupe window). */
  duplicate: boolean;
}

/** The platform's event bus: JetStream in production, in-process in embedded mode. */
export interface EventBus {
  readonly kind: "jetstream" | "in-process";
  /** Resolves once the bus has durably accepted the event. */
  publish(event: PlatformEvent): Promise<PublishResult>;
  subscribe<TData = unknown>(options: SubscribeOptions<TData>): Promise<EventSubscription>;
  /** False while the broker is known to be unreachable (for readiness checks and the outbox relay). */
  isConnected(): boolean;
  /** Closes every subscription, then the bus. */
  close(): Promise<void>;
}
