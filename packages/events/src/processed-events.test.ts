import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import { ProcessedEvents } from "./processed-events";
import { migratedServiceDatabase, type ServiceDatabase } from "./test-support";

describe("ProcessedEvents (idempotent consumers)", () => {
  let service: ServiceDatabase;
  let processed: ProcessedEvents;

  beforeAll(async () => {
    service = await migratedServiceDatabase("ev_processed");
    processed = new ProcessedEvents(service.database.db, service.tables.processedEvents);
  });
  afterAll(async () => service?.cleanup());

  const countJobs = async (name: string) =>
    (await service.database.db.select().from(service.tables.jobs).where(eq(service.tables.jobs.name, name))).length;

  it("applies an event once per consumer, however often it is delivered", async () => {
    const eventId = randomUUID();
    const apply = () =>
      processed.runOnce("cost", eventId, async (tx) => {
        await tx.insert(service.tables.jobs).values({ name: `job-${eventId}` });
        return "applied";
      });

    expect(await apply()).toEqual({ duplicate: false, result: "applied" });
    expect(await apply()).toEqual({ duplicate: true });
    expect(await countJobs(`job-${eventId}`)).toBe(1);

    // Another consumer of the same event is independent.
    expect(await processed.runOnce("monitoring", eventId, async () => 1)).toEqual({ duplicate: false, result: 1 });
  });

  it("leaves no marker when the work fails, so the redelivery applies it", async () => {
    const eventId = randomUUID();
    await expect(
      processed.runOnce("cost", eventId, async (tx) => {
        await tx.insert(service.tables.jobs).values({ name: `failed-${eventId}` });
        throw new Error("downstream unavailable");
      }),
    ).rejects.toThrow("downstream unavailable");
    expect(await countJobs(`failed-${eventId}`)).toBe(0);

    expect(await processed.runOnce("cost", eventId, async () => "second try")).toEqual({
      duplicate: false,
      result: "second try",
    });
  });

  it("dedupes concurrent deliveries of one event", async () => {
    const eventId = randomUUID();
    let runs = 0;
    const results = await Promise.all(
      Array.from({ length: 4 }, () =>
        processed.runOnce("inventory", eventId, async () => {
          runs += 1;
        }),
      ),
    );
    expect(runs).toBe(1);
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
  });

  it("forgets old markers", async () => {
    expect(await processed.forgetOlderThan(0, "monitoring")).toBeGreaterThanOrEqual(1);
  });
});
