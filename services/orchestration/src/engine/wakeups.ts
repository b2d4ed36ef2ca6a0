import { createEvent, type EventBus, type EventSubscription, orchestrationSubjects } from "@cloudforet/events";
import type { Logger } from "pino";

export const WAKEUP_SUBJECT = orchestrationSubjects.instanceWakeup;

/** At most one wake-up per this many ms leaves a process (more would only repeat it). */
const THROTTLE_MS = 10;

/**
 * Wake-ups over the bus: when an instance becomes due (created, signalled, a worker finished), the
 * replicas claim at once instead of at their next tick. On JetStream the replicas of one deployment
 * share one durable per database (`scope`), so each wake-up reaches one of them and deployments
 * sharing a NATS server never consume each other's; in-process, each engine has its own.
 */
export class Wakeups {
  private subscription?: EventSubscription;
  private lastPublish = 0;
  private trailing?: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly bus: EventBus,
    private readonly scope: string,
    private readonly engineId: string,
    private readonly logger: Logger,
  ) {}

  async listen(onWake: () => void): Promise<void> {
    const durable = this.bus.kind === "jetstream" ? `orchestration-wakeup-${this.scope}` : `orchestration-wakeup-${this.engineId.replace(/[^A-Za-z0-9_-]/g, "_")}`;
    this.subscription = await this.bus.subscribe<{ scope?: string; from?: string }>({
      durable,
      subjects: WAKEUP_SUBJECT,
      deliverPolicy: "new",
      handler: (event) => {
        if (event.data?.scope === this.scope) onWake();
      },
    });
  }

  publish(): void {
    if (this.closed || this.trailing) return;
    const wait = this.lastPublish + THROTTLE_MS - Date.now();
    if (wait > 0) {
      this.trailing = setTimeout(() => {
        this.trailing = undefined;
        this.publish();
      }, wait);
      this.trailing.unref();
      return;
    }
    this.lastPublish = Date.now();
    this.bus
      .publish(createEvent({ subject: WAKEUP_SUBJECT, data: { scope: this.scope, from: this.engineId } }))
      .catch((err) => this.logger.debug({ err }, "wake-up not published; the other replicas poll"));
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.trailing);
    await this.subscription?.close();
  }
}
