import { describe, expect, it, beforeAll, afterAll } from "vitest";
import pino from "pino";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { connectTestNats, createTestStream, startTcpProxy, waitFor, type TcpProxy, type TestStream } from "@cloudforet/testing";
import { eventBusContract } from "./event-bus.contract";
import { JetStreamBus, type JetStreamBusOptions } from "./jetstream-bus";
import { createEvent } from "./event";

const logger = pino({ level: process.env.LOG_LEVEL ?? "silent" });

eventBusContract("JetStreamBus", async () => {
  const stream = await createTestStream("ev_contract");
  const bus = await JetStreamBus.connect({
    servers: stream.natsUrl,
    logger,
    stream: stream.stream,
    streamSubjects: stream.subjects,
    redelivery: { initialDelayMs: 50, maxDelayMs: 200 },
  });
  return {
    bus,
    subjectPrefix: stream.subjectPrefix,
    cleanup: async () => {
      await bus.close();
      await stream.cleanup();
    },
  };
});

describe("JetStreamBus", () => {
  let stream: TestStream;
  beforeAll(async () => {
    stream = await createTestStream("ev_js");
  });
  afterAll(async () => stream?.cleanup());

  it("creates its stream with a duplicate window, and reconnects to it idempotently", async () => {
    const options = { servers: stream.natsUrl, logger, stream: stream.stream, streamSubjects: stream.subjects, duplicateWindowMs: 60_000 };
    const first = await JetStreamBus.connect(options);
    const second = await JetStreamBus.connect(options);
    try {
      const event = createEvent({ subject: `${stream.subjectPrefix}.job.created`, data: {} });
      expect(await first.publish(event)).toEqual({ duplicate: false });
      expect(await second.publish(event)).toEqual({ duplicate: true });
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });

  it("with a consumer prefix and a start time, a new durable has its own name and skips what came before", async () => {
    const base = { servers: stream.natsUrl, logger, stream: stream.stream, streamSubjects: stream.subjects };
    const publisher = await JetStreamBus.connect(base);
    const subject = `${stream.subjectPrefix}.since.happened`;
    const before = createEvent({ subject, data: { n: 1 } });
    await publisher.publish(before);
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    const isolated = await JetStreamBus.connect({ ...base, consumerPrefix: "tsince", consumersSince: new Date(Date.now() - 300) });
    try {
      const after = createEvent({ subject, data: { n: 2 } });
      await publisher.publish(after);
      const seen: string[] = [];
      const subscription = await isolated.subscribe({ durable: "since", subjects: subject, handler: (event) => void seen.push(event.id) });
      await waitFor(async () => seen.length >= 1, 5_000, "the event published after the start time");
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(seen).toEqual([after.id]);
      expect(subscription.durable).toBe("tsince-since");
    } finally {
      await Promise.all([publisher.close(), isolated.close()]);
    }
  });

  it("fails a publish to a subject outside the stream", async () => {
    const bus = await JetStreamBus.connect({
      servers: stream.natsUrl,
      logger,
      stream: stream.stream,
      streamSubjects: stream.subjects,
      publishTimeoutMs: 500,
    });
    try {
      await expect(bus.publish(createEvent({ subject: `elsewhere_${stream.subjectPrefix}.x.y`, data: {} }))).rejects.toThrow(
        /publishing event/,
      );
    } finally {
      await bus.close();
    }
  });
});

describe("JetStreamBus durable consumers", () => {
  let stream: TestStream;
  let bus: JetStreamBus;
  beforeAll(async () => {
    stream = await createTestStream("ev_durable");
    bus = await JetStreamBus.connect({ servers: stream.natsUrl, logger, stream: stream.stream, streamSubjects: stream.subjects });
  });
  afterAll(async () => {
    await bus?.close();
    await stream?.cleanup();
  });

  it("follows a durable whose subjects changed between deployments", async () => {
    const seen: string[] = [];
    const handler = (e: { subject: string }) => void seen.push(e.subject);
    const first = await bus.subscribe({ durable: "moving", subjects: `${stream.subjectPrefix}.old.>`, handler });
    await first.close();

    const second = await bus.subscribe({ durable: "moving", subjects: `${stream.subjectPrefix}.new.>`, handler });
    await bus.publish(createEvent({ subject: `${stream.subjectPrefix}.old.x`, data: {} }));
    await bus.publish(createEvent({ subject: `${stream.subjectPrefix}.new.x`, data: {} }));
    await waitFor(() => seen.length >= 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(seen).toEqual([`${stream.subjectPrefix}.new.x`]);
    await second.close();
  });

  it("starts a new durable at new events when asked", async () => {
    const subject = `${stream.subjectPrefix}.fresh.x`;
    await bus.publish(createEvent({ subject, data: { old: true } }));
    const seen: unknown[] = [];
    const sub = await bus.subscribe({ durable: "fresh", subjects: subject, deliverPolicy: "new", handler: (e) => void seen.push(e.data) });
    await bus.publish(createEvent({ subject, data: { old: false } }));
    await waitFor(() => seen.length >= 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(seen).toEqual([{ old: false }]);
    await sub.close();
  });
});

/**
 * A process's own durables have an inactivity threshold; when the process is cut off from NATS
 * longer than that while the broker stays up, the broker deletes them. The bus must notice and
 * recreate them, or the process silently stops receiving events (revocations, job progress).
 */
describe("JetStreamBus when the broker drops a subscription's consumer", () => {
  let stream: TestStream;
  let proxy: TcpProxy;
  let admin: NatsConnection;
  let jsm: JetStreamManager;
  const buses: JetStreamBus[] = [];
  beforeAll(async () => {
    stream = await createTestStream("ev_recreate");
    const nats = new URL(stream.natsUrl);
    proxy = await startTcpProxy({ host: nats.hostname, port: Number(nats.port || 4222) });
    admin = await connectTestNats(stream.natsUrl);
    jsm = await jetstreamManager(admin);
  });
  afterAll(async () => {
    await Promise.all(buses.map((b) => b.close()));
    await proxy?.stop();
    await admin?.close();
    await stream?.cleanup();
  });

  const connect = async (servers: string, extra: Partial<JetStreamBusOptions> = {}) => {
    const bus = await JetStreamBus.connect({ servers, logger, stream: stream.stream, streamSubjects: stream.subjects, reconnectWaitMs: 100, ...extra });
    buses.push(bus);
    return bus;
  };
  const consumerExists = (durable: string) =>
    jsm.consumers.info(stream.stream, durable).then(
      () => true,
      () => false,
    );

  /** The broker can refuse a delete while it still writes the consumer's state files ("directory not empty"). */
  /**
   * Deletes the durable once. The file store may answer "directory not empty" for a delete that
   * went through (the consumer is gone, its directory not yet): retried only while the very consumer
   * asked about is still there, not once the bus has recreated it (deleting that one would be a
   * second drop, and a second gap).
   */
  const deleteConsumer = async (durable: string) => {
    const { created } = await jsm.consumers.info(stream.stream, durable);
    for (let attempt = 1; ; attempt++) {
      try {
        await jsm.consumers.delete(stream.stream, durable);
        return;
      } catch (error) {
        if (attempt >= 5 || !String(error).includes("directory not empty")) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
        const now = await jsm.consumers.info(stream.stream, durable).catch(() => undefined);
        if (now?.created !== created) return;
      }
    }
  };
  let attempt = 0;

  it("recreates a deleted 'all' durable after the last handled event and reports the gap", async () => {
    // A retry must not share the durable of an earlier attempt (whose bus still consumes it).
    const durable = `dropped_all_${++attempt}`;
    const bus = await connect(stream.natsUrl);
    const subject = `${stream.subjectPrefix}.deleted.x${attempt}`;
    const seen: number[] = [];
    const gaps: string[] = [];
    await bus.subscribe<{ n: number }>({
      durable,
      subjects: subject,
      inactiveThresholdMs: 60_000,
      handler: (e) => void seen.push(e.data.n),
      onGap: (gap) => void gaps.push(gap.durable),
    });
    await bus.publish(createEvent({ subject, data: { n: 1 } }));
    await waitFor(() => seen.length === 1, 15_000, "the first event");

    await deleteConsumer(durable);
    await bus.publish(createEvent({ subject, data: { n: 2 } }));
    await waitFor(() => seen.includes(2), 20_000, "an event after the deletion");
    expect(gaps).toEqual([durable]);
    expect(seen).toEqual([1, 2]);
    expect(await consumerExists(durable)).toBe(true);
  }, 45_000);

  it("recreates the consumers of a client cut off longer than their inactivity threshold", async () => {
    // The partitioned client talks through the proxy; its consumers live 1 s without it.
    const partitioned = await connect(proxy.url("nats"), { inactiveThresholdMs: 1_000 });
    const publisher = await connect(stream.natsUrl);
    const allSubject = `${stream.subjectPrefix}.cut.all`;
    const newSubject = `${stream.subjectPrefix}.cut.new`;
    const seenAll: number[] = [];
    const seenNew: number[] = [];
    const gaps: string[] = [];
    await partitioned.subscribe<{ n: number }>({
      durable: "cut_all",
      subjects: allSubject,
      inactiveThresholdMs: 600_000,
      handler: (e) => void seenAll.push(e.data.n),
      onGap: (gap) => void gaps.push(gap.durable),
    });
    await partitioned.subscribe<{ n: number }>({
      durable: "cut_new",
      subjects: newSubject,
      deliverPolicy: "new",
      inactiveThresholdMs: 60_000,
      handler: (e) => void seenNew.push(e.data.n),
      onGap: (gap) => void gaps.push(gap.durable),
    });
    await publisher.publish(createEvent({ subject: allSubject, data: { n: 1 } }));
    await waitFor(() => seenAll.length === 1, 5_000, "the first event");

    await proxy.stop();
    await waitFor(async () => !(await consumerExists("cut_all")) && !(await consumerExists("cut_new")), 20_000, "the broker to drop the consumers");
    // Published while the consumer is gone: the "all" durable must still get it.
    await publisher.publish(createEvent({ subject: allSubject, data: { n: 2 } }));
    await proxy.start();

    await waitFor(() => seenAll.includes(2), 20_000, "the event published while cut off");
    await waitFor(() => gaps.length === 2, 10_000, "both gaps reported");
    await publisher.publish(createEvent({ subject: allSubject, data: { n: 3 } }));
    await publisher.publish(createEvent({ subject: newSubject, data: { n: 4 } }));
    await waitFor(() => seenAll.includes(3) && seenNew.includes(4), 10_000, "events after the reconnect");
    expect(seenAll).toEqual([1, 2, 3]);
    expect(gaps.sort()).toEqual(["cut_all", "cut_new"]);
  }, 60_000);
});
