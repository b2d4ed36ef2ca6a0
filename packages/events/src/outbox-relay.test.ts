import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { testDatabaseUrl, waitFor } from "@cloudforet/testing";
import { eq, sql } from "drizzle-orm";
import { openDatabase, queryRows } from "@cloudforet/db";
import { createEvent, type PlatformEvent } from "./event";
import type { EventBus, PublishResult } from "./event-bus";
import { enqueueEvent, enqueueEvents } from "./enqueue-event";
import { InProcessBus } from "./in-process-bus";
import { OutboxPublishError, OutboxRelay } from "./outbox-relay";
import { migratedServiceDatabase, testLogger, type ServiceDatabase } from "./test-support";

/** A bus that records what it is given and can be told to fail. */
class RecordingBus implements Pick<EventBus, "publish"> {
  published: PlatformEvent[] = [];
  failNext = 0;
  async publish(event: PlatformEvent): Promise<PublishResult> {
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new Error("broker unreachable");
    }
    const duplicate = this.published.some((e) => e.id === event.id);
    this.published.push(event);
    return { duplicate };
  }
}

describe("transactional outbox on PostgreSQL", () => {
  let service: ServiceDatabase;
  const relays: OutboxRelay[] = [];
  const newRelay = (
    bus: Pick<EventBus, "publish">,
    options: { pollIntervalMs?: number; idlePollIntervalMs?: number; batchSize?: number; notifications?: null } = {},
  ) => {
    const relay = new OutboxRelay({
      db: service.database.db,
      outbox: service.tables.outbox,
      bus,
      logger: testLogger,
      retryBackoff: { initialMs: 20, maxMs: 100 },
      ...options,
    });
    relays.push(relay);
    return relay;
  };
  const subject = (name: string) => `cloudforet.inventory.job.${name}`;

  beforeAll(async () => {
    service = await migratedServiceDatabase("ev_outbox");
  });
  beforeEach(async () => {
    await Promise.all(relays.splice(0).map((r) => r.stop(0)));
    await service.database.db.delete(service.tables.outbox);
  });
  afterAll(async () => {
    await Promise.all(relays.map((r) => r.stop(0)));
    await service?.cleanup();
  });

  it("writes the event in the caller's transaction: rolled back with it, committed with it", async () => {
    const { db } = service.database;
    const { jobs, outbox } = service.tables;

    await expect(
      db.transaction(async (tx) => {
        await tx.insert(jobs).values({ name: "rolled back" });
        await enqueueEvent(tx, outbox, { subject: subject("created"), data: { name: "rolled back" } });
        throw new Error("the change failed");
      }),
    ).rejects.toThrow("the change failed");
    expect(await db.select().from(outbox)).toEqual([]);

    const event = await db.transaction(async (tx) => {
      const [job] = await tx.insert(jobs).values({ name: "kept" }).returning();
      return enqueueEvent(tx, outbox, { subject: subject("created"), domainId: "d-1", data: { job_id: job.id } });
    });
    const rows = await db.select().from(outbox);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ id: event.id, subject: subject("created"), payload: event, publishedAt: null, attempts: 0 });
    const [stored] = await queryRows<{ kind: string }>(
      db,
      sql`select jsonb_typeof(payload) as kind from ${outbox} where ${outbox.id} = ${event.id}`,
    );
    expect(stored.kind).toBe("object");
  });

  it("relays within milliseconds of a kick, long before the next poll", async () => {
    const bus = new InProcessBus({ logger: testLogger });
    const received: Array<{ id: string; at: number }> = [];
    await bus.subscribe({ durable: "kick", subjects: "cloudforet.>", handler: (e) => void received.push({ id: e.id, at: Date.now() }) });
    const relay = newRelay(bus, { pollIntervalMs: 60_000 });
    relay.start();
    await new Promise((resolve) => setTimeout(resolve, 50)); // the first pass is done; the relay sleeps

    const committedAt = Date.now();
    const event = await service.database.db.transaction((tx) =>
      enqueueEvent(tx, service.tables.outbox, { subject: subject("finished"), data: {} }),
    );
    relay.kick();

    await waitFor(() => received.length === 1, 2_000, "the kicked event");
    expect(received[0].id).toBe(event.id);
    expect(received[0].at - committedAt).toBeLessThan(500);
    await bus.close();
  });

  it("wakes on the commit's NOTIFY while idle, with no kick and a 60 s poll (another replica's write)", async () => {
    const bus = new RecordingBus();
    const relay = newRelay(bus, { pollIntervalMs: 60_000, idlePollIntervalMs: 60_000 });
    relay.start();
    // The first pass is done and LISTEN is in place: the relay sleeps for a minute.
    await waitFor(() => (relay as unknown as { subscription?: { listening: boolean } }).subscription?.listening === true, 5_000, "LISTEN");
    await new Promise((resolve) => setTimeout(resolve, 100));

    // Another pool (as another replica would) commits an event and kicks nobody here.
    const writer = await openDatabase({ url: testDatabaseUrl(), schema: service.test.schema, logger: testLogger, poolSize: 1 });
    try {
      const committedAt = Date.now();
      const event = await writer.db.transaction((tx) => enqueueEvent(tx, service.tables.outbox, { subject: subject("elsewhere"), data: {} }));
      await waitFor(() => bus.published.length === 1, 5_000, "the notified event");
      expect(bus.published[0].id).toBe(event.id);
      expect(Date.now() - committedAt).toBeLessThan(1_500);
    } finally {
      await writer.close();
    }
  });

  it("polls every pollIntervalMs when it cannot LISTEN (notifications: null, as on PGlite)", async () => {
    const bus = new RecordingBus();
    const relay = newRelay(bus, { pollIntervalMs: 100, idlePollIntervalMs: 60_000, notifications: null });
    relay.start();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await service.database.db.transaction((tx) => enqueueEvent(tx, service.tables.outbox, { subject: subject("polled"), data: {} }));
    await waitFor(() => bus.published.length === 1, 2_000, "the polled event");
  });

  it("retries within a second of a kick while backing off, instead of at the end of the backoff", async () => {
    const bus = new RecordingBus();
    bus.failNext = 1;
    const relay = new OutboxRelay({
      db: service.database.db,
      outbox: service.tables.outbox,
      bus,
      logger: testLogger,
      pollIntervalMs: 60_000,
      retryBackoff: { initialMs: 30_000, maxMs: 30_000 },
    });
    relays.push(relay);
    await service.database.db.transaction((tx) => enqueueEvent(tx, service.tables.outbox, { subject: subject("first"), data: {} }));
    relay.start();
    await waitFor(() => bus.failNext === 0, 2_000, "the failed pass");
    // The outage is over: a new write commits and kicks the relay, which is 30 s into its backoff.
    const kickedAt = Date.now();
    await service.database.db.transaction((tx) => enqueueEvent(tx, service.tables.outbox, { subject: subject("second"), data: {} }));
    relay.kick();
    relay.kick(); // repeated kicks do not retry any sooner, nor later
    await waitFor(() => bus.published.length === 2, 5_000, "both events after the kick");
    expect(Date.now() - kickedAt).toBeLessThan(5_000);
  });

  it("publishes in write order across batches and marks rows published", async () => {
    const bus = new RecordingBus();
    const { db } = service.database;
    const events = await db.transaction((tx) =>
      enqueueEvents(
        tx,
        service.tables.outbox,
        Array.from({ length: 25 }, (_, i) => ({ subject: subject("step"), data: { i } })),
      ),
    );
    const relay = newRelay(bus, { batchSize: 10 });

    expect(await relay.publishPending()).toEqual({ published: 25, duplicates: 0 });
    expect(bus.published.map((e) => e.id)).toEqual(events.map((e) => e.id));
    expect(await relay.countUnpublished()).toBe(0);
    const rows = await db.select().from(service.tables.outbox);
    expect(rows.every((r) => r.publishedAt instanceof Date && r.attempts === 1)).toBe(true);
  });

  it("keeps rows when the bus fails and publishes them once it recovers", async () => {
    const bus = new RecordingBus();
    const { db } = service.database;
    const { outbox } = service.tables;
    const [first, second] = await db.transaction((tx) =>
      enqueueEvents(tx, outbox, [
        { subject: subject("a"), data: {} },
        { subject: subject("b"), data: {} },
      ]),
    );
    const relay = newRelay(bus);

    bus.failNext = 2;
    await expect(relay.publishPending()).rejects.toBeInstanceOf(OutboxPublishError);
    await expect(relay.publishPending()).rejects.toBeInstanceOf(OutboxPublishError);
    const [stuck] = await db.select().from(outbox).where(eq(outbox.id, first.id));
    expect(stuck).toMatchObject({ publishedAt: null, attempts: 2, lastError: "broker unreachable" });
    expect(await relay.countUnpublished()).toBe(2);

    relay.start();
    await waitFor(() => bus.published.length === 2, 3_000, "the recovered relay");
    expect(bus.published.map((e) => e.id)).toEqual([first.id, second.id]);
    expect(await relay.flush(1_000)).toEqual({ remaining: 0 });
  });

  it("lets replicas relay the same outbox without publishing a row twice", async () => {
    const bus = new RecordingBus();
    const slowBus = {
      publish: async (event: PlatformEvent) => {
        await new Promise((resolve) => setTimeout(resolve, 2));
        return bus.publish(event);
      },
    };
    await service.database.db.transaction((tx) =>
      enqueueEvents(tx, service.tables.outbox, Array.from({ length: 60 }, (_, i) => ({ subject: subject("n"), data: { i } }))),
    );
    const replicas = [newRelay(slowBus, { batchSize: 5 }), newRelay(slowBus, { batchSize: 5 }), newRelay(slowBus, { batchSize: 5 })];

    await Promise.all(replicas.map((r) => r.publishPending()));

    expect(bus.published).toHaveLength(60);
    expect(new Set(bus.published.map((e) => e.id)).size).toBe(60);
  });

  it("flushes on stop and deletes published rows after the retention", async () => {
    const bus = new RecordingBus();
    const { db } = service.database;
    const relay = new OutboxRelay({
      db,
      outbox: service.tables.outbox,
      bus,
      logger: testLogger,
      pollIntervalMs: 60_000,
      retentionMs: 0,
    });
    relay.start();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await db.transaction((tx) => enqueueEvent(tx, service.tables.outbox, { subject: subject("last"), data: {} }));

    expect(await relay.stop()).toEqual({ remaining: 0 });
    expect(bus.published).toHaveLength(1);

    await db.transaction((tx) => enqueueEvent(tx, service.tables.outbox, { subject: subject("pending"), data: {} }));
    expect(await relay.deleteExpired()).toBe(1);
    const left = await db.select({ subject: service.tables.outbox.subject }).from(service.tables.outbox);
    expect(left).toEqual([{ subject: subject("pending") }]);
  });

  it("refuses an event whose data is not JSON before it reaches the outbox", async () => {
    await expect(
      service.database.db.transaction((tx) =>
        enqueueEvent(tx, service.tables.outbox, { subject: subject("bad"), data: { big: 1n } }),
      ),
    ).rejects.toThrow(/JSON/);
    expect(createEvent({ subject: subject("ok"), data: null }).data).toBeNull();
  });
});
