import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  JetStreamApiCodes,
  JetStreamApiError,
  type ConsumerConfig,
  type ConsumerInfo,
  type JetStreamClient,
  type JetStreamManager,
} from "@nats-io/jetstream";
import { headers as natsHeaders, nanos, type NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import type { Logger } from "pino";
import { encodeEvent, type PlatformEvent } from "./event";
import type { EventBus, EventHandler, EventSubscription, PublishResult, SubscribeOptions } from "./event-bus";
import { EventBusError, PublishFailedError } from "./event-errors";
import { ensureStream } from "./ensure-stream";
import { eventTracing, TRACEPARENT_HEADER, withoutTraceContext } from "./event-tracing";
import { JetStreamSubscription } from "./jetstream-subscription";
import { assertSubjectPattern, subjectMatches } from "./subject-pattern";
import { resolveRedelivery, type RedeliveryPolicy } from "./redelivery-policy";

export const DEFAULT_STREAM = "CLOUDFORET";
export const DEFAULT_STREAM_SUBJECTS = ["cloudforet.>"];

export interface JetStreamBusOptions {
  /** `NATS_URL`; ignored when `connection` is given. */
  servers?: string | string[];
  /** An existing connection to use; the bus then leaves closing it to the caller. */
  connection?: NatsConnection;
  /** Connection name shown by the server (e.g. the service name). */
  name?: string;
  logger: Logger;
  stream?: string;
  streamSubjects?: string[];
  /** Broker-side dedupe window for Nats-Msg-Id (default 2 minutes). */
  duplicateWindowMs?: number;
  /** Retention of events in the stream (default 7 days). */
  maxAgeMs?: number;
  /** How long a publish waits for the stream's ack (default 5 s). */
  publishTimeoutMs?: number;
  /** How long the broker waits for an ack before redelivering (default 30 s). */
  ackWaitMs?: number;
  /** Default redelivery for subscriptions that do not set their own. */
  redelivery?: Partial<RedeliveryPolicy>;
  /**
   * Events pulled ahead per subscription (default 16). Handlers run one at a time, so keep
   * prefetch × handler time well under `ackWaitMs`.
   */
  prefetch?: number;
  /** Pause between reconnect attempts (default 1 s); the bus reconnects forever. */
  reconnectWaitMs?: number;
  /**
   * Replaces the inactivity threshold of every subscription that sets one (the process's own
   * durables). `NATS_INACTIVE_THRESHOLD_MS`; tests use a few seconds to see the broker drop the
   * consumers of a replica cut off from NATS.
   */
  inactiveThresholdMs?: number;
  /**
   * Put before every durable's name (`NATS_CONSUMER_PREFIX`): test runs sharing one NATS each get
   * their own copy of every event instead of competing for it.
   */
  consumerPrefix?: string;
  /**
   * Where a new durable that asks for every event starts (`NATS_CONSUMER_SINCE`), instead of the
   * stream's first event: a test run sharing the stream with earlier runs sees only its own events.
   */
  consumersSince?: Date;
}

/** The EventBus over NATS JetStream: one stream, durable pull consumers, explicit acks. */
export class JetStreamBus implements EventBus {
  readonly kind = "jetstream" as const;
  readonly stream: string;
  private readonly log: Logger;
  private readonly subscriptions = new Set<JetStreamSubscription>();
  private closed = false;
  private reachable = true;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly ownsConnection: boolean,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly options: JetStreamBusOptions,
  ) {
    this.stream = options.stream ?? DEFAULT_STREAM;
    this.log = options.logger.child({ component: "event-bus", bus: "jetstream", stream: this.stream });
  }

  /** Connects (unless given a connection) and makes sure the stream exists with the configured subjects. */
  static async connect(options: JetStreamBusOptions): Promise<JetStreamBus> {
    const nc =
      options.connection ??
      (await connect({
        servers: options.servers ?? "nats://127.0.0.1:4222",
        name: options.name,
        maxReconnectAttempts: -1,
        reconnectTimeWait: options.reconnectWaitMs ?? 1_000,
      }));
    try {
      const jsm = await jetstreamManager(nc);
      const bus = new JetStreamBus(nc, !options.connection, jsm.jetstream(), jsm, options);
      await ensureStream(
        jsm,
        {
          name: bus.stream,
          subjects: options.streamSubjects ?? DEFAULT_STREAM_SUBJECTS,
          duplicateWindowMs: options.duplicateWindowMs ?? 120_000,
          maxAgeMs: options.maxAgeMs ?? 7 * 24 * 3_600_000,
        },
        bus.log,
      );
      bus.watchConnection();
      return bus;
    } catch (err) {
      if (!options.connection) await nc.close().catch(() => {});
      throw err;
    }
  }

  async publish(event: PlatformEvent): Promise<PublishResult> {
    if (this.closed) throw new PublishFailedError("the JetStream event bus is closed");
    // The trace context travels as a header, so the body stays the envelope consumers decode.
    const payload = encodeEvent(withoutTraceContext(event));
    const send = async (traceparent: string | undefined) => {
      try {
        const h = traceparent ? natsHeaders() : undefined;
        if (h && traceparent) h.set(TRACEPARENT_HEADER, traceparent);
        const ack = await this.js.publish(event.subject, payload, {
          msgID: event.id,
          timeout: this.options.publishTimeoutMs ?? 5_000,
          ...(h ? { headers: h } : {}),
        });
        return { duplicate: ack.duplicate };
      } catch (err) {
        throw new PublishFailedError(`publishing event ${event.id} to ${event.subject} failed: ${describe(err)}`, {
          cause: err,
        });
      }
    };
    const tracing = eventTracing();
    // Without tracing here, a traceparent stored by a traced producer is still passed on as is.
    return tracing ? tracing.publish(event, event.traceparent, send) : send(event.traceparent);
  }

  async subscribe<TData = unknown>(given: SubscribeOptions<TData>): Promise<EventSubscription> {
    if (this.closed) throw new EventBusError("the JetStream event bus is closed");
    const options = this.options.consumerPrefix ? { ...given, durable: `${this.options.consumerPrefix}-${given.durable}` } : given;
    const subjects = [options.subjects].flat();
    subjects.forEach(assertSubjectPattern);
    const policy = resolveRedelivery(this.options.redelivery, options.redelivery);
    const filter = this.consumerFilter(subjects);

    const deliverPolicy = options.deliverPolicy ?? "all";
    const inactiveThresholdMs = options.inactiveThresholdMs ? (this.options.inactiveThresholdMs ?? options.inactiveThresholdMs) : undefined;
    const config: Partial<ConsumerConfig> = {
      durable_name: options.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: deliverPolicy === "new" ? DeliverPolicy.New : this.options.consumersSince ? DeliverPolicy.StartTime : DeliverPolicy.All,
      ...(deliverPolicy !== "new" && this.options.consumersSince ? { opt_start_time: this.options.consumersSince.toISOString() } : {}),
      ack_wait: nanos(this.options.ackWaitMs ?? 30_000),
      max_deliver: policy.maxDeliver,
      ...(inactiveThresholdMs ? { inactive_threshold: nanos(inactiveThresholdMs) } : {}),
      ...filter.config,
    };
    // What "caught up" means: having handled what the stream held before this subscribe.
    const catchUpTo = (await this.jsm.streams.info(this.stream)).state.last_seq;
    await this.ensureConsumer(options.durable, config);
    const prefetch = options.prefetch ?? this.options.prefetch ?? 16;
    const opened = await JetStreamSubscription.open({ js: this.js, stream: this.stream, durable: options.durable, prefetch });
    const subscription = new JetStreamSubscription(opened.messages, {
      durable: options.durable,
      stream: this.stream,
      nc: this.nc,
      js: this.js,
      jsm: this.jsm,
      config,
      deliverPolicy,
      handler: options.handler as EventHandler,
      policy,
      ackWaitMs: this.options.ackWaitMs ?? 30_000,
      prefetch,
      confirmAcks: !inactiveThresholdMs,
      // Servers before 2.10 take one filter subject; then the consumer gets everything and filters here.
      accepts: filter.clientSide ? (subject) => subjects.some((p) => subjectMatches(p, subject)) : () => true,
      onGap: options.onGap,
      catchUpTo,
      pendingAtStart: opened.pending,
      log: this.log.child({ durable: options.durable }),
    });
    this.subscriptions.add(subscription);
    subscription.closed.finally(() => this.subscriptions.delete(subscription));
    return subscription;
  }

  isConnected(): boolean {
    return !this.closed && this.reachable && !this.nc.isClosed();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.close()));
    if (this.ownsConnection) await this.nc.close();
  }

  private consumerFilter(subjects: string[]): { config: Partial<ConsumerConfig>; clientSide: boolean } {
    if (subjects.length === 1) return { config: { filter_subject: subjects[0] }, clientSide: false };
    if (serverAtLeast(this.nc.info?.version, [2, 10, 0])) return { config: { filter_subjects: subjects }, clientSide: false };
    return { config: {}, clientSide: true };
  }

  /**
   * Creates the durable, or brings an existing one up to date. A changed subject filter is applied
   * by recreating the consumer at its acknowledged position, because servers before 2.10 accept a
   * new filter on an existing consumer without actually applying it.
   */
  private async ensureConsumer(durable: string, config: Partial<ConsumerConfig>): Promise<void> {
    let existing: ConsumerInfo | undefined;
    try {
      existing = await this.jsm.consumers.info(this.stream, durable);
    } catch (err) {
      if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound)) throw err;
    }
    if (!existing) {
      await this.jsm.consumers.add(this.stream, config);
      return;
    }
    if (sameMembers(filtersOf(existing.config), filtersOf(config))) {
      if (existing.config.ack_wait !== config.ack_wait || existing.config.max_deliver !== config.max_deliver) {
        await this.jsm.consumers.update(this.stream, durable, { ack_wait: config.ack_wait, max_deliver: config.max_deliver });
      }
      return;
    }
    const resumeAt = existing.ack_floor.stream_seq + 1;
    await this.jsm.consumers.delete(this.stream, durable);
    const { opt_start_time: _since, ...resumed } = config;
    await this.jsm.consumers.add(this.stream, {
      ...resumed,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: resumeAt,
    });
    this.log.info(
      { durable, from: filtersOf(existing.config), to: filtersOf(config), resume_at_seq: resumeAt },
      "consumer subjects changed; consumer recreated at its position",
    );
  }

  private watchConnection(): void {
    void (async () => {
      for await (const status of this.nc.status()) {
        if (status.type === "disconnect") {
          this.reachable = false;
          this.log.warn({ server: status.server }, "NATS connection lost");
        } else if (status.type === "reconnect") {
          this.reachable = true;
          this.log.info({ server: status.server }, "NATS connection restored");
        }
        else if (status.type === "error") this.log.error({ err: status.error }, "NATS connection error");
      }
    })().catch(() => {});
  }
}

/** The subjects a consumer config filters on; empty means the whole stream. */
function filtersOf(config: Partial<ConsumerConfig>): string[] {
  if (config.filter_subjects?.length) return config.filter_subjects;
  return config.filter_subject ? [config.filter_subject] : [];
}

const sameMembers = (a: string[], b: string[]) => a.length === b.length && a.every((x) => b.includes(x));

function serverAtLeast(version: string | undefined, wanted: [number, number, number]): boolean {
  const parts = (version ?? "0.0.0").split(/[.-]/).map((p) => Number.parseInt(p, 10) || 0);
  for (let i = 0; i < 3; i++) {
    if ((parts[i] ?? 0) !== wanted[i]) return (parts[i] ?? 0) > wanted[i];
  }
  return true;
}

const describe = (err: unknown) => (err instanceof Error ? err.message : String(err));
