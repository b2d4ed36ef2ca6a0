import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStatementCounter, testDatabaseUrl, type StatementCounter } from "@cloudforet/testing";
import { openDatabase, queryRows, type DatabaseHandle } from "@cloudforet/db";
import { enqueueEvents } from "./enqueue-event";
import { migratedServiceDatabase, testLogger, type ServiceDatabase } from "./test-support";

describe("enqueueEvents", () => {
  let service: ServiceDatabase;
  let counter: StatementCounter;
  let counted: DatabaseHandle;

  beforeAll(async () => {
    service = await migratedServiceDatabase("enqueue_events");
    counter = await startStatementCounter(testDatabaseUrl());
    counted = await openDatabase({ url: counter.url, schema: service.test.schema, logger: testLogger, poolSize: 1 });
  });
  afterAll(async () => {
    await counted?.close();
    await counter?.close();
    await service?.cleanup();
  });

  it("writes the events and the NOTIFY that wakes the relays in one statement", async () => {
    const { outbox } = service.tables;
    counter.reset();
    const events = await counted.db.transaction((tx) =>
      enqueueEvents(tx, outbox, [
        { subject: "cloudforet.test.one", data: { n: 1 } },
        { subject: "cloudforet.test.two", data: { n: 2 } },
      ]),
    );
    const touching = counter.statements().filter((text) => /outbox|pg_notify/i.test(text));
    expect(touching).toHaveLength(1);
    expect(touching[0]).toMatch(/pg_notify/);
    const stored = await queryRows<{ id: string; subject: string; payload: { id: string } }>(service.database.db, `select id, subject, payload from "${service.test.schema}".outbox order by sequence`);
    expect(stored.map((row) => [row.id, row.subject, row.payload.id])).toEqual(events.map((event) => [event.id, event.subject, event.id]));
  });
});
