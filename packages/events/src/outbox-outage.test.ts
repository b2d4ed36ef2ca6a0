import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { createTestStream, startTcpProxy, waitFor, type TcpProxy, type TestStream } from "@cloudforet/testing";
import type { PlatformEvent } from "./event";
import type { EventBus } from "./event-bus";
import { enqueueEvent } from "./enqueue-event";
import { JetStreamBus } from "./jetstream-bus";
import { OutboxRelay } from "./outbox-relay";
import { migratedServiceDatabase, testLogger, type ServiceDatabase } from "./test-support";

/**
 * SPEC §9: "a crash or a NATS outage loses nothing and duplicates nothing". The relay reaches NATS
 * through a TCP proxy this test stops and restarts; the shared NATS server itself stays up.
 */
describe("outbox relay across a NATS outage (real Postgres, real NATS)", () => {
  let service: ServiceDatabase;
  let stream: TestStream;
  let proxy: TcpProxy;
  let relayBus: JetStreamBus;
  let consumerBus: JetStreamBus;
  let relay: OutboxRelay;
  const publishOutcomes: Array<{ id: string; duplicate?: boolean; failed?: boolean }> = [];

  beforeAll(async () => {
    service = await migratedServiceDatabase("ev_outage");
    stream = await createTestStream("ev_outage");
    const nats = new URL(stream.natsUrl);
    proxy = await startTcpProxy({ host: nats.hostname, port: Number(nats.port || 4222) });
    const streamOptions = { logger: testLogger, stream: stream.stream, streamSubjects: stream.subjects };
    relayBus = await JetStreamBus.connect({
      ...streamOptions,
      servers: proxy.url("nats"),
      publishTimeoutMs: 300,
      reconnectWaitMs: 100,
    });
    consumerBus = await JetStreamBus.connect({ ...streamOptions, servers: stream.natsUrl });
  });

  afterAll(async () => {
    await relay?.stop(0);
    await relayBus?.close();
    await consumerBus?.close();
    await proxy?.stop();
    await stream?.cleanup();
    await service?.cleanup();
  });

  it("keeps the event while NATS is unreachable, then delivers it exactly once", async () => {
    const { db } = service.database;
    const { outbox, jobs } = service.tables;
    const subject = `${stream.subjectPrefix}.inventory.job.finished`;

    const delivered: PlatformEvent[] = [];
    await consumerBus.subscribe({ durable: "cost_jobs", subjects: subject, handler: (e) => void delivered.push(e) });

    // Record every publish outcome the relay sees, to prove the double publish below happened.
    const observedBus: Pick<EventBus, "publish"> = {
      publish: async (event) => {
        try {
          const result = await relayBus.publish(event);
          publishOutcomes.push({ id: event.id, duplicate: result.duplicate });
          return result;
        } catch (err) {
          publishOutcomes.push({ id: event.id, failed: true });
          throw err;
        }
      },
    };
    relay = new OutboxRelay({
      db,
      outbox,
      bus: observedBus,
      logger: testLogger,
      pollIntervalMs: 100,
      retryBackoff: { initialMs: 100, maxMs: 300 },
    });
    relay.start();

    // 1. NATS goes away (for the relay).
    await proxy.stop();

    const event = await db.transaction(async (tx) => {
      const [job] = await tx.insert(jobs).values({ name: "nightly collection" }).returning();
      return enqueueEvent(tx, outbox, { subject, domainId: "domain-1", data: { job_id: job.id } });
    });
    relay.kick();

    const row = async () => (await db.select().from(outbox).where(eq(outbox.id, event.id)))[0];
    await waitFor(async () => (await row()).attempts >= 2, 10_000, "two failed publish attempts recorded");
    const whileDown = await row();
    expect(whileDown.publishedAt).toBeNull();
    expect(whileDown.attempts).toBeGreaterThanOrEqual(2);
    expect(whileDown.lastError).toMatch(/publishing event/);
    expect(delivered).toEqual([]);

    // 2. NATS is back: the relay's retry publishes the row.
    await proxy.start();
    await waitFor(() => delivered.length === 1, 15_000, "delivery after NATS came back");
    await waitFor(async () => (await relay.countUnpublished()) === 0, 5_000, "the row marked published");
    expect(delivered[0]).toEqual(event);

    // 3. Force a double publish, as if the relay crashed between publishing and marking the row.
    const successesBefore = publishOutcomes.filter((o) => !o.failed).length;
    await db.update(outbox).set({ publishedAt: null }).where(eq(outbox.id, event.id));
    relay.kick();
    await waitFor(() => publishOutcomes.filter((o) => !o.failed).length > successesBefore, 5_000, "the re-publish");
    await waitFor(async () => (await relay.countUnpublished()) === 0, 5_000, "the row marked published again");

    const successes = publishOutcomes.filter((o) => !o.failed);
    expect(successes.at(-1)).toEqual({ id: event.id, duplicate: true });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(delivered.map((e) => e.id)).toEqual([event.id]);
    await relay.stop(0);
  });

  it("does not hold outbox rows while the bus knows NATS is down", async () => {
    const { db } = service.database;
    const { outbox } = service.tables;
    const subject = `${stream.subjectPrefix}.inventory.job.created`;
    const delivered: PlatformEvent[] = [];
    await consumerBus.subscribe({ durable: "cost_created", subjects: subject, handler: (e) => void delivered.push(e) });
    const directRelay = new OutboxRelay({ db, outbox, bus: relayBus, logger: testLogger, retryBackoff: { initialMs: 50, maxMs: 100 } });

    await proxy.stop();
    await waitFor(() => !relayBus.isConnected(), 5_000, "the bus to notice the outage");
    const event = await db.transaction((tx) => enqueueEvent(tx, outbox, { subject, data: {} }));

    await expect(directRelay.publishPending()).rejects.toThrow(/disconnected/);
    const [untouched] = await db.select().from(outbox).where(eq(outbox.id, event.id));
    expect(untouched).toMatchObject({ publishedAt: null, attempts: 0 });

    await proxy.start();
    await waitFor(() => relayBus.isConnected(), 10_000, "the bus to reconnect");
    expect(await directRelay.flush(5_000)).toEqual({ remaining: 0 });
    await waitFor(() => delivered.length === 1, 5_000, "the event");
    expect(delivered[0].id).toBe(event.id);
  });
});
