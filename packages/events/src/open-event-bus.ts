import type { Logger } from "pino";
import type { PlatformEvent } from "./event";
import type { EventBus, EventSubscription, PublishResult, SubscribeOptions } from "./event-bus";
import { EventBusError } from "./event-errors";
import { InProcessBus, type InProcessBusOptions } from "./in-process-bus";
import { JetStreamBus, type JetStreamBusOptions } from "./jetstream-bus";

export interface OpenEventBusOptions extends Omit<JetStreamBusOptions, "servers" | "connection"> {
  /** `NATS_URL`. Without it the bus is the process-wide in-process bus (embedded mode). */
  url?: string;
  logger: Logger;
  /** The service's environment, for the bus's own variables (`NATS_INACTIVE_THRESHOLD_MS`). */
  env?: NodeJS.ProcessEnv;
}

/**
 * The bus a service should use: JetStream when NATS_URL is set, otherwise the in-process bus that
 * every service in this process shares (embedded mode runs all seven services in one process).
 */
export async function openEventBus(options: OpenEventBusOptions): Promise<EventBus> {
  if (options.url) {
    const { env, url, ...busOptions } = options;
    const inactiveThresholdMs = inactiveThresholdFrom(env) ?? options.inactiveThresholdMs;
    return JetStreamBus.connect({ ...busOptions, servers: url, inactiveThresholdMs, consumerPrefix: consumerPrefixFrom(env) ?? options.consumerPrefix, consumersSince: consumersSinceFrom(env) ?? options.consumersSince });
  }
  return acquireSharedInProcessBus({ logger: options.logger, redelivery: options.redelivery });
}

/** NATS_CONSUMER_PREFIX: letters, digits, `_` and `-`, at most 32. */
function consumerPrefixFrom(env: NodeJS.ProcessEnv | undefined): string | undefined {
  const raw = env?.NATS_CONSUMER_PREFIX?.trim();
  if (!raw) return undefined;
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(raw)) throw new EventBusError(`NATS_CONSUMER_PREFIX must be 1-32 letters, digits, "_" or "-" (got "${raw}")`);
  return raw;
}

/** NATS_CONSUMER_SINCE: an ISO 8601 time. */
function consumersSinceFrom(env: NodeJS.ProcessEnv | undefined): Date | undefined {
  const raw = env?.NATS_CONSUMER_SINCE?.trim();
  if (!raw) return undefined;
  const since = new Date(raw);
  if (Number.isNaN(since.getTime())) throw new EventBusError(`NATS_CONSUMER_SINCE must be an ISO 8601 time (got "${raw.slice(0, 40)}")`);
  return since;
}

/** NATS_INACTIVE_THRESHOLD_MS: a whole number of milliseconds, at least 1,000 (the broker checks about once a second). */
function inactiveThresholdFrom(env: NodeJS.ProcessEnv | undefined): number | undefined {
  const raw = env?.NATS_INACTIVE_THRESHOLD_MS?.trim();
  if (!raw) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1_000) {
    throw new EventBusError(`NATS_INACTIVE_THRESHOLD_MS must be a whole number of milliseconds, at least 1000 (got "${raw}")`);
  }
  return value;
}

interface SharedBus {
  bus: InProcessBus;
  refs: number;
}

const sharedKey = Symbol.for("@cloudforet/events:shared-in-process-bus");
const holder = globalThis as Record<symbol, SharedBus | undefined>;

/** A lease on the process-wide InProcessBus; `close()` ends this lease's subscriptions only. */
export function acquireSharedInProcessBus(options: InProcessBusOptions): EventBus {
  const shared = (holder[sharedKey] ??= { bus: new InProcessBus(options), refs: 0 });
  shared.refs += 1;
  const subscriptions = new Set<EventSubscription>();
  let closed = false;

  return {
    kind: "in-process",
    publish: (event: PlatformEvent): Promise<PublishResult> => shared.bus.publish(event),
    isConnected: () => !closed && shared.bus.isConnected(),
    async subscribe<TData>(subscribeOptions: SubscribeOptions<TData>) {
      const subscription = await shared.bus.subscribe(subscribeOptions);
      subscriptions.add(subscription);
      return {
        durable: subscription.durable,
        caughtUp: subscription.caughtUp,
        close: async () => {
          subscriptions.delete(subscription);
          await subscription.close();
        },
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([...subscriptions].map((s) => s.close()));
      shared.refs -= 1;
      if (shared.refs === 0 && holder[sharedKey] === shared) {
        holder[sharedKey] = undefined;
        await shared.bus.close();
      }
    },
  };
}
