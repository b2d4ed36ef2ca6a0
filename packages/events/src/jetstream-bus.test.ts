import { describe, expect, it, beforeAll, afterAll } from "vitest";
import pino from "pino";
import { createTestStream, waitFor, type TestStream } from "@cloudforet/testing";
import { eventBusContract } from "./event-bus.contract";
import { JetStreamBus } from "./jetstream-bus";
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
