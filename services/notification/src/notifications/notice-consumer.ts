import type { EventBus, EventSubscription, PlatformEvent, ProcessedEventStore } from "@cloudforet/events";
import type { Logger } from "pino";
import type { NotificationSender } from "./notification-sender";
import type { SendInput } from "./notifications";

export interface NoticeConsumerDeps {
  bus: EventBus;
  processed: ProcessedEventStore;
  sender: NotificationSender;
  afterCommit: () => void;
  logger: Logger;
}

/** One kind of event another service raises for notification to deliver (a finished job, an alert, a budget threshold). */
export interface NoticeKind<TNotice> {
  durable: string;
  subject: string;
  /** The notice in the event's data; undefined drops the event (logged with `malformed`). */
  parse(data: unknown): TNotice | undefined;
  /** The domain it belongs to (the event's, else the notice's own). */
  domainOf(event: PlatformEvent<unknown>, notice: TNotice): string | undefined;
  /** What is sent, to which workspace's channels ("all": every channel of the domain). */
  toSend(notice: TNotice): { input: SendInput; workspaceId: string; channelScope?: "all" };
  /** Log line fields naming the notice, and the messages of its lines. */
  logFields(notice: TNotice): Record<string, unknown>;
  malformed: string;
  queued: string;
}

/**
 * Raises a notification for every event of `kind`, without anyone calling Send. Durable (one consumer
 * for all replicas) and idempotent: the notification and the event's processed marker commit
 * together, so a redelivered event never makes a second notice; the durable delivery queue then
 * retries it under the per-endpoint breakers.
 */
export function consumeNotices<TNotice>(deps: NoticeConsumerDeps, kind: NoticeKind<TNotice>): Promise<EventSubscription> {
  const log = deps.logger.child({ consumer: kind.durable });
  return deps.bus.subscribe<unknown>({
    durable: kind.durable,
    subjects: kind.subject,
    handler: async (event: PlatformEvent<unknown>) => {
      const notice = kind.parse(event.data);
      const domainId = notice === undefined ? undefined : kind.domainOf(event, notice);
      if (notice === undefined || !domainId) {
        log.warn({ event_id: event.id }, kind.malformed);
        return;
      }
      const { input, workspaceId, channelScope } = kind.toSend(notice);
      const outcome = await deps.processed.runOnce(kind.durable, event.id, (tx) => deps.sender.send(input, { domainId, workspaceId, channelScope, tx }));
      if (outcome.duplicate) {
        log.debug({ event_id: event.id }, "notice already delivered");
        return;
      }
      deps.afterCommit();
      log.info({ event_id: event.id, ...kind.logFields(notice), notification_id: outcome.result.notificationId }, kind.queued);
    },
  });
}
