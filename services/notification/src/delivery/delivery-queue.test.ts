import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import type { DatabaseHandle } from "@cloudforet/db";
import { deliveries, deliveryQueue, notifications } from "../db/schema";
import { NotificationRepository } from "../notifications/repository";
import { notificationDatabase } from "../db/test-database";
import { openDatabase } from "@cloudforet/db";
import { startStatementCounter } from "@cloudforet/testing";
import pino from "pino";
import { DeliveryQueue, type ClaimedRow } from "./delivery-queue";
import { EndpointBreakers } from "./endpoint-breakers";

let database: { handle: DatabaseHandle; url: string; close(): Promise<void> };
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

const claim = async (limit = 10, leaseMs = 60_000, endpointLimit = 2): Promise<ClaimedRow[]> => (await queue.claimDue({ limit, endpointLimit, leaseMs })).rows;

beforeAll(async () => {
  database = await notificationDatabase();
  queue = new DeliveryQueue(database.handle.db, new EndpointBreakers(database.handle.db, { failureThreshold: 3, resetTimeoutMs: 60_000, logger: pino({ level: "silent" }) }));
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
  it("hands each due row to one claimer only (FOR UPDATE SKIP LOCKED + lease), at most the endpoint's slots over all claimers", async () => {
    for (let i = 0; i < 3; i++) await notificationTo([{ channelId: `ch-a${i}`, endpointKey: "e1" }]);
    for (let i = 0; i < 2; i++) await notificationTo([{ channelId: `ch-b${i}`, endpointKey: "e2" }]);

    const batches = await Promise.all([claim(), claim(), claim()]);
    // Rows a claimer saw but left (its endpoint's slots were full) are free again once it commits.
    for (let more = await claim(); more.length > 0; more = await claim()) batches.push(more);
    const all = batches.flat();
    // e1's third row waits: its two slots are leased, whoever holds them.
    expect(all.filter((r) => r.endpointKey === "e1")).toHaveLength(2);
    expect(all).toHaveLength(4);
    expect(new Set(all.map((r) => r.queueId)).size).toBe(4);
    expect(await claim()).toEqual([]); // all leased
  });

  it("skips endpoints whose leased rows fill their slots and respects the limit", async () => {
    for (let i = 0; i < 3; i++) await notificationTo([{ channelId: `ch-${i}`, endpointKey: "busy" }]);
    expect(await claim(1, 60_000, 1)).toHaveLength(1); // "busy" now has its one slot leased
    for (let i = 0; i < 3; i++) await notificationTo([{ channelId: `ch-x${i}`, endpointKey: "free" }]);
    const rows = await claim(10, 60_000, 1);
    expect(rows.map((r) => r.endpointKey)).toEqual(["free"]);
    expect(await claim(1, 60_000, 5)).toHaveLength(1);
  });

  it("records each attempt, reschedules a retry for later, and finishes on success", async () => {
    const notificationId = await notificationTo([{ channelId: "ch-1", endpointKey: "e" }]);
    const [row] = await claim();
    await queue.recordAttempt(row, 1, { status: "FAILED", error: "HTTP 500", retryInMs: 300 });
    expect(await claim()).toEqual([]);
    const wait = await queue.msUntilNextDue();
    expect(wait).toBeGreaterThan(100);
    expect(wait).toBeLessThanOrEqual(300);
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
    // A lease long enough that a slow (shared, noisy) machine cannot let it lapse between two claims.
    const [row] = await claim(10, 600);
    expect(await claim()).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect((await claim()).map((r) => r.queueId)).toEqual([row.queueId]);
  });

  it("fences a worker whose lease ran out: it may not send, and its late result is not recorded", async () => {
    const notificationId = await notificationTo([{ channelId: "ch-1", endpointKey: "e" }]);
    const [stale] = await claim(10, 50);
    await new Promise((resolve) => setTimeout(resolve, 80));
    // Even before anyone else claims it, an expired lease no longer allows sending.
    expect(await queue.holdLease(stale, 60_000)).toBe(false);
    const [current] = await claim();
    expect(current.queueId).toBe(stale.queueId);
    expect(current.leaseToken).not.toBe(stale.leaseToken);
    expect(await queue.holdLease(stale, 60_000)).toBe(false);
    expect(await queue.holdLease(current, 60_000)).toBe(true);
    expect(await queue.recordAttempt(stale, 1, { status: "SUCCEEDED", error: "" })).toBe(false);
    expect(await queue.recordAttempt(current, 1, { status: "SUCCEEDED", error: "" })).toBe(true);
    const records = await database.handle.db.select().from(deliveries).where(sql`${deliveries.notificationId} = ${notificationId}`);
    expect(records.map((r) => [r.status, r.attempt])).toEqual([["SUCCEEDED", 1]]);
  });

  it("queues a notification's deliveries and announces them in one round trip", async () => {
    const counter = await startStatementCounter(database.url);
    const counted = await openDatabase({ url: counter.url, schema: "notification", logger: pino({ level: "silent" }), poolSize: 1 });
    try {
      let inside = 0;
      await counted.db.transaction(async (tx) => {
        counter.reset();
        await DeliveryQueue.enqueue(tx, { notificationId: "notif-one-trip", domainId: "d" }, [
          { channelId: "ch-1", endpointKey: "e1" },
          { channelId: "ch-2", endpointKey: "e2" },
        ]);
        inside = counter.roundTrips();
      });
      expect(inside).toBe(1);
      expect(counter.statements().some((text) => text.includes("pg_notify") && text.includes("insert into"))).toBe(true);
    } finally {
      await counted.close();
      await counter.close();
    }
    const queued = await database.handle.db.select().from(deliveryQueue).where(sql`${deliveryQueue.notificationId} = 'notif-one-trip'`);
    expect(queued.map((row) => [row.channelId, row.endpointKey, row.state, row.attempts]).sort()).toEqual([
      ["ch-1", "e1", "PENDING", 0],
      ["ch-2", "e2", "PENDING", 0],
    ]);
  });
});
