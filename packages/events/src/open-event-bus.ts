import type { Logger } from "pino";
import type { PlatformEvent } from "./event";
import type { EventBus, EventSubscription, PublishResult, SubscribeOptions } from "./event-bus";
import { InProcessBus, type InProcessBusOptions } from "./in-process-bus";
import { JetStreamBus, type JetStreamBusOptions } from "./jetstream-bus";

export interface OpenEventBusOptions extends Omit<JetStreamBusOptions, "servers" | "connection"> {
  /** `NATS_URL`. Without it the bus is the process-wide in-process bus (embedded mode). */
  url?: string;
  logger: Logger;
}

/**
 * The bus a service should use: JetStream when NATS_URL is set, otherwise the in-process bus that
 * every service in this process shares (embedded mode runs all seven services in one process).
 */
export async function openEventBus(options: OpenEventBusOptions): Promise<EventBus> {
  if (options.url) return JetStreamBus.connect({ ...options, servers: options.url });
  return acquireSharedInProcessBus({ logger: options.logger, redelivery: options.redelivery });
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
