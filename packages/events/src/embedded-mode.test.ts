import { afterAll, describe, expect, it } from "vitest";
import { pgSchema } from "drizzle-orm/pg-core";
import { eq, sql } from "drizzle-orm";
import { migrate, openDatabase, queryRows, type DatabaseHandle } from "@cloudforet/db";
import { waitFor } from "@cloudforet/testing";
import { enqueueEvent } from "./enqueue-event";
import type { EventBus } from "./event-bus";
import { openEventBus } from "./open-event-bus";
import { OutboxRelay } from "./outbox-relay";
import { ProcessedEvents } from "./processed-events";
import { fixtureMigrationsFor } from "./fixtures/fixture-migrations";
import { fixtureTables } from "./fixtures/fixture-schema";
import { testLogger } from "./test-support";

/**
 * Embedded mode (no DATABASE_URL, no NATS_URL): two services in one process share one PGlite and
 * the in-process bus; one's outbox reaches the other's idempotent handler.
 */
describe("embedded mode: PGlite + in-process bus", () => {
  const dataDir = `memory://events-embedded-${process.pid}`;
  const services: Array<{ database: DatabaseHandle; bus: EventBus }> = [];
  let relay: OutboxRelay;

  const openService = async (schema: string) => {
    const database = await openDatabase({ dataDir, schema, logger: testLogger });
    const migrations = await fixtureMigrationsFor(schema);
    try {
      await migrate(database, { migrationsFolder: migrations.folder, schema, logger: testLogger });
    } finally {
      await migrations.remove();
    }
    const bus = await openEventBus({ logger: testLogger, redelivery: { initialDelayMs: 20, maxDelayMs: 50 } });
    services.push({ database, bus });
    return { database, bus, tables: fixtureTables(pgSchema(schema)) };
  };

  afterAll(async () => {
    await relay?.stop(0);
    for (const { database, bus } of services) {
      await bus.close();
      await database.close();
    }
  });

  it("relays a committed change to another service's handler, once", async () => {
    const inventory = await openService("inventory");
    const cost = await openService("cost");
    expect(inventory.bus.kind).toBe("in-process");
    const processed = new ProcessedEvents(cost.database.db, cost.tables.processedEvents);

    let deliveries = 0;
    await cost.bus.subscribe({
      durable: "cost.inventory-jobs",
      subjects: "cloudforet.inventory.job.*",
      handler: async (event, context) => {
        deliveries += 1;
        if (context.attempt === 1) throw new Error("first delivery fails");
        await processed.runOnce("cost.inventory-jobs", event.id, async (tx) => {
          await tx.insert(cost.tables.jobs).values({ name: `mirror of ${(event.data as { name: string }).name}` });
        });
      },
    });

    relay = new OutboxRelay({
      db: inventory.database.db,
      outbox: inventory.tables.outbox,
      bus: inventory.bus,
      logger: testLogger,
      pollIntervalMs: 60_000,
    });
    relay.start();

    const event = await inventory.database.db.transaction(async (tx) => {
      await tx.insert(inventory.tables.jobs).values({ name: "collect aws" });
      return enqueueEvent(tx, inventory.tables.outbox, {
        subject: "cloudforet.inventory.job.created",
        data: { name: "collect aws" },
      });
    });
    relay.kick();

    const mirrored = () =>
      cost.database.db.select().from(cost.tables.jobs).where(eq(cost.tables.jobs.name, "mirror of collect aws"));
    await waitFor(async () => (await mirrored()).length === 1, 10_000, "the cost service to apply the event");
    expect(deliveries).toBe(2);

    // A re-publish of the same row is dropped by the bus's dedupe.
    await inventory.database.db
      .update(inventory.tables.outbox)
      .set({ publishedAt: null })
      .where(eq(inventory.tables.outbox.id, event.id));
    expect(await relay.publishPending()).toEqual({ published: 1, duplicates: 1 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(deliveries).toBe(2);
    expect(await mirrored()).toHaveLength(1);
    const markers = await queryRows(cost.database.db, sql`select event_id from cost.processed_events`);
    expect(markers).toEqual([{ event_id: event.id }]);
  }, 60_000);
});
