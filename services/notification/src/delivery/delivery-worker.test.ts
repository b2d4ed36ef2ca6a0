import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import pino from "pino";
import { openDatabase, type DatabaseHandle } from "@cloudforet/db";
import type { OutboundPolicy } from "@cloudforet/outbound";
import { waitFor } from "@cloudforet/testing";
import type { ChannelCredentials } from "../channels/channel-credentials";
import { deliveries } from "../db/schema";
import { notificationDatabase } from "../db/test-database";
import { NotificationRepository } from "../notifications/repository";
import { DeliveryQueue } from "./delivery-queue";
import { DeliveryWorker } from "./delivery-worker";
import { EndpointBreakers } from "./endpoint-breakers";

const logger = pino({ level: "silent" });
let database: { handle: DatabaseHandle; url: string; close(): Promise<void> };
let worker: DeliveryWorker | undefined;

beforeAll(async () => {
  database = await notificationDatabase();
});

afterAll(async () => {
  await worker?.close();
  await database?.close();
});

describe("DeliveryWorker wake-ups", () => {
  it("picks up a delivery another replica queued at once (NOTIFY), not at the next poll", async () => {
    const { db } = database.handle;
    const breakers = new EndpointBreakers(db, { failureThreshold: 3, resetTimeoutMs: 60_000, logger });
    worker = new DeliveryWorker(
      new DeliveryQueue(db, breakers),
      breakers,
      // Never reached: the queued channel does not exist, so the attempt ends before its settings are read.
      {} as ChannelCredentials,
      {
        maxAttempts: 3,
        retryBaseMs: 1_000,
        retryMaxMs: 1_000,
        concurrency: 4,
        endpointConcurrency: 2,
        deliveryTimeoutMs: 1_000,
        pollMs: 60_000,
        idlePollMs: 60_000,
        leaseMs: 10_000,
        outbound: {} as OutboundPolicy,
        notifications: database.handle.notifications,
      },
      logger,
    );
    worker.start();
    // The first pass found nothing; LISTEN is in place and the worker sleeps for a minute.
    await new Promise((resolve) => setTimeout(resolve, 1_000));

    // Another replica's pool: its Send cannot call this worker's wake().
    const writer = await openDatabase({ url: database.url, schema: "notification", logger, poolSize: 1 });
    try {
      const queuedAt = Date.now();
      await writer.db.transaction((tx) =>
        NotificationRepository.insert(
          tx,
          { notificationId: "notif-elsewhere", domainId: "d", workspaceId: "", title: "t", message: "m", severity: "INFO", notificationType: "USER", tags: {}, channels: [], recipients: [] },
          [{ channelId: "ch-gone", endpointKey: "e1" }],
          [],
        ),
      );
      // The attempt is recorded (FAILED: the channel is gone), which means the row was claimed.
      await waitFor(async () => (await db.select().from(deliveries).where(eq(deliveries.notificationId, "notif-elsewhere"))).length > 0, 5_000, "the attempt");
      expect(Date.now() - queuedAt).toBeLessThan(2_000);
    } finally {
      await writer.close();
    }
  });
});

