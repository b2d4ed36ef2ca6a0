import {
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type ConsumerConfig,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import type { Logger } from "pino";
import { CatchUp } from "./catch-up";
import { decodeEvent, type PlatformEvent } from "./event";
import { eventTracing, TRACEPARENT_HEADER } from "./event-tracing";
import type { EventHandler, EventSubscription, SubscriptionGap } from "./event-bus";
import { isLastDelivery, redeliveryDelay, type RedeliveryPolicy } from "./redelivery-policy";

export interface JetStreamSubscriptionSettings {
  durable: string;
  stream: string;
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  /** The consumer's config as first created; a recreation reuses it. */
  config: Partial<ConsumerConfig>;
  deliverPolicy: "all" | "new";
  handler: EventHandler;
  policy: RedeliveryPolicy;
  ackWaitMs: number;
  prefetch: number;
  /** Wait for the broker to confirm each ack (durables shared across restarts and replicas). */
  confirmAcks: boolean;
  accepts(subject: string): boolean;
  onGap?: (gap: SubscriptionGap) => void;
  /** The stream's last sequence when subscribing: handling it (or later) is being caught up. */
  catchUpTo: number;
  /** Events waiting for this consumer when it was opened; 0 means caught up already. */
  pendingAtStart: number;
  log: Logger;
}

const MAX_RETRY_PAUSE_MS = 5_000;

/**
 * One subscription's delivery loop over a durable pull consumer. It outlives the consumer: when the
 * broker drops it (its inactivity threshold passed while this process was cut off, or an operator
 * deleted it) the client library only keeps asking for it, so this loop recreates it with the same
 * config and tells the subscriber about the gap.
 */
export class JetStreamSubscription implements EventSubscription {
  readonly durable: string;
  readonly closed: Promise<void>;
  private readonly catchUp = new CatchUp();
  private messages: ConsumerMessages;
  private closing = false;
  /** The highest stream sequence handled, so a recreated "all" consumer resumes after it. */
  private lastHandledSeq = 0;
  /** Why the broker's consumer is gone, once a status said so. */
  private dropped?: string;
  private pauseTimer?: { timer: NodeJS.Timeout; resolve(): void };

  constructor(
    first: ConsumerMessages,
    private readonly settings: JetStreamSubscriptionSettings,
  ) {
    this.durable = settings.durable;
    this.messages = first;
    if (settings.pendingAtStart === 0) this.catchUp.done();
    this.watchStatus(first);
    this.closed = this.run(first);
  }

  get caughtUp(): Promise<void> {
    return this.catchUp.promise;
  }

  async close(): Promise<void> {
    if (!this.closing) {
      this.closing = true;
      this.catchUp.abandon(this.durable);
      this.pauseTimer?.resolve();
    }
    await this.messages.close().catch(() => {});
    await this.closed;
  }

  /** Opens a consume on the durable as it is on the broker now. */
  static async open(settings: Pick<JetStreamSubscriptionSettings, "js" | "stream" | "durable" | "prefetch">) {
    const consumer = await settings.js.consumers.get(settings.stream, settings.durable);
    const info = await consumer.info(true);
    const messages = await consumer.consume({ max_messages: settings.prefetch });
    return { messages, pending: info.num_pending };
  }

  private async run(first: ConsumerMessages): Promise<void> {
    const { log } = this.settings;
    let messages: ConsumerMessages | undefined = first;
    let failures = 0;
    while (!this.closing) {
      if (messages) {
        try {
          for await (const msg of messages) await this.handle(msg);
        } catch (err) {
          if (!this.closing) log.warn({ err }, "consuming stopped; resuming");
        }
        messages = undefined;
      }
      if (this.closing || this.settings.nc.isClosed()) break;
      try {
        if (this.dropped) await this.recreate(this.dropped);
        const opened = await JetStreamSubscription.open(this.settings);
        messages = opened.messages;
        this.messages = messages;
        if (this.closing) await messages.close().catch(() => {});
        else this.watchStatus(messages);
        failures = 0;
      } catch (err) {
        failures += 1;
        const pauseMs = Math.min(100 * 2 ** failures, MAX_RETRY_PAUSE_MS);
        log.warn({ err, retry_in_ms: pauseMs }, "could not resume the subscription; retrying");
        await this.pause(pauseMs);
      }
    }
    this.catchUp.abandon(this.durable);
  }

  /**
   * The library reports a deleted consumer (a 409 on a pending pull) and a missing one (its check
   * after a reconnect or missed heartbeats), then keeps waiting for it to come back on its own;
   * ending the consume hands over to `run`, which recreates it.
   */
  private watchStatus(messages: ConsumerMessages): void {
    void (async () => {
      for await (const status of messages.status()) {
        if (this.closing) return;
        if (status.type !== "consumer_deleted" && status.type !== "consumer_not_found") continue;
        this.dropped = status.type === "consumer_deleted" ? `consumer deleted: ${status.description}` : "consumer not found";
        this.settings.log.warn({ reason: this.dropped }, "the broker dropped this subscription's consumer");
        await messages.close();
        return;
      }
    })().catch((err) => this.settings.log.debug({ err }, "consumer status watch ended"));
  }

  private async recreate(reason: string): Promise<void> {
    const { jsm, stream, durable, config, deliverPolicy, log } = this.settings;
    if (await this.consumerExists()) {
      // Back already (recreated by a replica sharing it): nothing to do here.
      this.dropped = undefined;
      return;
    }
    // "all": pick up after the last handled event (applying again is harmless, skipping is not).
    // "new": what happened meanwhile is not replayed; the subscriber re-reads its state on the gap.
    const resumeAt = deliverPolicy === "all" && this.lastHandledSeq > 0 ? this.lastHandledSeq + 1 : undefined;
    try {
      const { opt_start_time: _since, ...resumable } = config;
      await jsm.consumers.add(stream, resumeAt ? { ...resumable, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: resumeAt } : config);
    } catch (err) {
      // Another replica sharing the durable recreated it first.
      if (!(await this.consumerExists())) throw err;
    }
    this.dropped = undefined;
    log.warn({ reason, deliver: deliverPolicy, resume_at_seq: resumeAt }, "consumer recreated after the broker dropped it; events may have been missed");
    try {
      this.settings.onGap?.({ durable, reason });
    } catch (err) {
      log.warn({ err }, "gap handler failed");
    }
  }

  private async consumerExists(): Promise<boolean> {
    try {
      await this.settings.jsm.consumers.info(this.settings.stream, this.settings.durable);
      return true;
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound) return false;
      throw err;
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.pauseTimer = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.pauseTimer = { timer, resolve: done };
    });
  }

  private async handle(msg: JsMsg): Promise<void> {
    try {
      await this.deliver(msg);
    } finally {
      this.lastHandledSeq = Math.max(this.lastHandledSeq, msg.seq);
      // Nothing left for this consumer, or past what the stream held at subscribe time.
      if (!this.catchUp.settled && (msg.info.pending === 0 || msg.seq >= this.settings.catchUpTo)) this.catchUp.done();
    }
  }

  private async deliver(msg: JsMsg): Promise<void> {
    const { log, policy } = this.settings;
    if (!this.settings.accepts(msg.subject)) {
      msg.ack();
      return;
    }
    let event: PlatformEvent;
    try {
      event = decodeEvent(msg.data);
    } catch (err) {
      log.error({ err, subject: msg.subject, seq: msg.seq }, "undecodable event terminated");
      msg.term("undecodable event");
      return;
    }

    const attempt = msg.info.deliveryCount;
    // Tell the broker a slow handler is still working, so it does not redeliver meanwhile.
    const keepAlive = setInterval(() => msg.working(), Math.max(this.settings.ackWaitMs / 2, 1_000));
    try {
      const context = { durable: this.durable, attempt, redelivered: msg.redelivered };
      const tracing = eventTracing();
      if (tracing) await tracing.consume(event, msg.headers?.get(TRACEPARENT_HEADER) || undefined, this.durable, async () => this.settings.handler(event, context));
      else await this.settings.handler(event, context);
      clearInterval(keepAlive);
      await this.acknowledge(msg, event);
    } catch (err) {
      clearInterval(keepAlive);
      const fields = { event_id: event.id, subject: event.subject, attempt, err };
      if (isLastDelivery(attempt, policy)) {
        log.error(fields, "event handler failed on its last delivery; event dropped");
        msg.term("handler failed on the last delivery");
        return;
      }
      const delayMs = redeliveryDelay(attempt, policy);
      log.warn({ ...fields, redeliver_in_ms: delayMs }, "event handler failed; redelivering");
      msg.nak(delayMs);
    }
  }

  /**
   * A shared durable waits for the broker to confirm the ack, so a resubscribe never sees the event
   * again; a process's own durable is never resumed elsewhere, so it does not pay a round trip per
   * event (which is what made a replay of the identity stream slow).
   */
  private async acknowledge(msg: JsMsg, event: PlatformEvent): Promise<void> {
    if (!this.settings.confirmAcks) {
      msg.ack();
      return;
    }
    try {
      if (!(await msg.ackAck({ timeout: 5_000 }))) throw new Error("ack not confirmed");
    } catch (err) {
      this.settings.log.warn({ err, event_id: event.id }, "ack not confirmed; the event may be redelivered");
    }
  }
}
