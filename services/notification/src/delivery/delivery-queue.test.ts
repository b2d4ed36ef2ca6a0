import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import type { DatabaseHandle } from "@cloudforet/db";
import { deliveries, deliveryQueue, notifications } from "../db/schema";
import { NotificationRepository } from "../notifications/repository";
import { notificationDatabase } from "../test-support/notification-database";
import { DeliveryQueue } from "./delivery-queue";

let database: { handle: DatabaseHandle; close(): Promise<void> };
let queue: DeliveryQueue;
let counter = 0;

async function notificationTo(channels: { channelId: string; endpointKey: string }[]): Promise<string> {
  counter += 1;
  const notificationId = `notif-${counter}`;
  await database.handle.db.transaction((tx) =>
    NotificationRepository.insert(
      tx,
      { notificationId, domainId: "d", workspaceId: "", title: "t", message: "m", severity: "INFO", notificationType: "USER", tags: {}, channels: [], recipients: [] },
      channels,
      [],
    ),
  );
  return notificationId;
}

const claim = (limit = 10, leaseMs = 60_000) => queue.claimDue({ limit, endpointSlots: new Map(), defaultEndpointSlots: 2, leaseMs });

beforeAll(async () => {
  database = await notificationDatabase();
  queue = new DeliveryQueue(database.handle.db);
});

afterAll(async () => {
  await database?.close();
});

beforeEach(async () => {
  await database.handle.db.delete(deliveryQueue);
  await database.handle.db.delete(deliveries);
  await database.handle.db.delete(notifications);
});

describe("DeliveryQueue", () => {
  it("hands each due row to one claimer only (FOR UPDATE SKIP LOCKED + lease), at most the endpoint's free slots each", async () => {
    for (let i = 0; i < 3; i++) await notificationTo([{ channelId: `ch-a${i}`, endpointKey: "e1" }]);
    for (let i = 0; i < 2; i++) await notificationTo([{ channelId: `ch-b${i}`, endpointKey: "e2" }]);

    const batches = await Promise.all([claim(), claim(), claim()]);
    for (const batch of batches) expect(batch.filter((r) => r.endpointKey === "e1").length).toBeLessThanOrEqual(2);
    // Rows a claimer saw but left (its endpoint's slots were full) are free again once it commits.
    for (let more = await claim(); more.length > 0; more = await claim()) batches.push(more);
    const all = batches.flat();
    expect(all).toHaveLength(5);
    expect(new Set(all.map((r) => r.queueId)).size).toBe(5);
    expect(await claim()).toEqual([]); // all leased
  });

  it("skips endpoints with no free slot and respects the limit", async () => {
    for (let i = 0; i < 3; i++) await notificationTo([{ channelId: `ch-${i}`, endpointKey: "busy" }, { channelId: `ch-x${i}`, endpointKey: "free" }]);
    const rows = await queue.claimDue({ limit: 10, endpointSlots: new Map([["busy", 0]]), defaultEndpointSlots: 5, leaseMs: 60_000 });
    expect(rows.map((r) => r.endpointKey)).toEqual(["free", "free", "free"]);
    expect(await queue.claimDue({ limit: 1, endpointSlots: new Map(), defaultEndpointSlots: 5, leaseMs: 60_000 })).toHaveLength(1);
  });

  it("records each attempt, reschedules a retry for later, and finishes on success", async () => {
    const notificationId = await notificationTo([{ channelId: "ch-1", endpointKey: "e" }]);
    const [row] = await claim();
    await queue.recordAttempt(row, 1, { status: "FAILED", error: "HTTP 500", retryInMs: 300 });
    expect(await claim()).toEqual([]);
    const wait = await queue.msUntilNextDue();
    expect(wait).toBeGreaterThan(100);
    expect(wait).toBeLessThanOrEqual(300);
    expect(await queue.msUntilNextDue(["e"])).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 320));
    const [again] = await claim();
    expect(again).toMatchObject({ queueId: row.queueId, attempts: 1 });
    await queue.recordAttempt(again, 2, { status: "SUCCEEDED", error: "" });
    expect(await queue.msUntilNextDue()).toBeUndefined();
    const records = await database.handle.db.select().from(deliveries).where(sql`${deliveries.notificationId} = ${notificationId}`).orderBy(deliveries.sequence);
    expect(records.map((r) => [r.channel, r.status, r.attempt, r.error])).toEqual([
      ["ch-1", "FAILED", 1, "HTTP 500"],
      ["ch-1", "SUCCEEDED", 2, ""],
    ]);
  });

  it("gives a crashed worker's rows back once their lease ends", async () => {
    await notificationTo([{ channelId: "ch-1", endpointKey: "e" }]);
    const [row] = await claim(10, 50);
    expect(await claim()).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect((await claim()).map((r) => r.queueId)).toEqual([row.queueId]);
  });
});
