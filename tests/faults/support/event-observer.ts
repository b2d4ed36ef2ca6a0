import { JetStreamBus, type EventSubscription, type PlatformEvent } from "@cloudforet/events";
import { createLogger } from "@cloudforet/runtime";

/**
 * A durable consumer of every platform event, attached by the test as any service would attach
 * one: it sees what the services' consumers see, across a NATS restart. Counts deliveries per event
 * id, so a test can tell "delivered once" from "lost" and from "redelivered".
 */
export class EventObserver {
  readonly deliveries = new Map<string, { event: PlatformEvent; count: number }>();

  private constructor(
    private readonly bus: JetStreamBus,
    private readonly subscription: EventSubscription,
  ) {}

  static async attach(natsUrl: string, durable = "faults-observer"): Promise<EventObserver> {
    const bus = await JetStreamBus.connect({ servers: natsUrl, name: durable, logger: createLogger(durable, "silent"), reconnectWaitMs: 250 });
    let observer: EventObserver | undefined;
    const seen: PlatformEvent[] = [];
    const subscription = await bus.subscribe({
      durable,
      subjects: "cloudforet.>",
      handler: (event) => {
        if (observer) observer.record(event);
        else seen.push(event);
      },
    });
    observer = new EventObserver(bus, subscription);
    for (const event of seen) observer.record(event);
    return observer;
  }

  /** The distinct events delivered on subjects starting with `subject`. */
  events(subject: string): PlatformEvent[] {
    return [...this.deliveries.values()].filter((d) => d.event.subject.startsWith(subject)).map((d) => d.event);
  }

  /** Deliveries beyond the first, over all events (redeliveries the consumer must dedupe). */
  redeliveries(): number {
    return [...this.deliveries.values()].reduce((sum, d) => sum + d.count - 1, 0);
  }

  async close(): Promise<void> {
    await this.subscription.close().catch(() => {});
    await this.bus.close().catch(() => {});
  }

  private record(event: PlatformEvent): void {
    const known = this.deliveries.get(event.id);
    if (known) known.count += 1;
    else this.deliveries.set(event.id, { event, count: 1 });
  }
}
