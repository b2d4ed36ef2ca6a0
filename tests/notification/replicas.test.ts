import type { Client } from "@connectrpc/connect";
import { Channel_ChannelType, ChannelService } from "@cloudforet/proto/cloudforet/notification/v1/channel_pb";
import { Delivery_Status } from "@cloudforet/proto/cloudforet/notification/v1/delivery_pb";
import { NotificationService } from "@cloudforet/proto/cloudforet/notification/v1/notification_pb";
import { notificationModule } from "@cloudforet/notification";
import { ConfigError, startService, type RunningService } from "@cloudforet/runtime";
import { createTestDatabase, TEST_OUTBOUND_ALLOW, testNatsUrl } from "@cloudforet/testing";
import { randomUUID } from "node:crypto";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPlatform, type TestPlatform } from "../support/platform";
import { notificationTestEnv } from "./support/env";
import { startHttpReceiver, type HttpReceiver } from "./support/receivers";

/**
 * Two notification replicas on one database and one NATS: the platform's own, plus a second one
 * started beside it with the same environment (and so the same sealing keys).
 */
async function startTwoReplicas(overrides: Record<string, string>): Promise<{ platform: TestPlatform; second: RunningService }> {
  const env = notificationTestEnv({ NATS_URL: testNatsUrl(), ...overrides });
  const platform = await startTestPlatform({ modules: [notificationModule], env });
  try {
    const second = await startService(notificationModule, {
      ...env,
      DATABASE_URL: platform.databaseUrl,
      NOTIFICATION_ADDR: "127.0.0.1:0",
      IDENTITY_URL: platform.url("identity"),
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
      CLOUDFORET_OUTBOUND_ALLOW: TEST_OUTBOUND_ALLOW,
    });
    return { platform, second };
  } catch (err) {
    await platform.close();
    throw err;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A fresh name per run, so a test CI runs a second time starts on a clean endpoint and channel name. */
const fresh = (name: string) => `${name}-${randomUUID().slice(0, 8)}`;

describe("two replicas share each endpoint's circuit breaker", () => {
  const THRESHOLD = 3;
  const RESET_MS = 2000;
  let platform: TestPlatform;
  let second: RunningService;
  let hooks: HttpReceiver;
  let channels: Client<typeof ChannelService>;
  let notifications: Client<typeof NotificationService>;

  beforeAll(async () => {
    hooks = await startHttpReceiver();
    ({ platform, second } = await startTwoReplicas({
      NOTIFICATION_BREAKER_FAILURES: String(THRESHOLD),
      NOTIFICATION_BREAKER_RESET_MS: String(RESET_MS),
      // One request at a time over both replicas, so the count below is not blurred by stragglers.
      NOTIFICATION_ENDPOINT_CONCURRENCY: "1",
      NOTIFICATION_MAX_ATTEMPTS: "100",
      NOTIFICATION_RETRY_MAX_MS: "100",
    }));
    channels = platform.client(ChannelService);
    notifications = platform.client(NotificationService);
  });

  afterAll(async () => {
    await second?.close();
    await platform?.close();
    await hooks?.close();
  });

  it("a dead endpoint gets `threshold` attempts in total, then exactly one probe per reset", async () => {
    const dead = `/${fresh("dead")}`;
    hooks.respond(dead, 503, "down");
    const { channelId } = await channels.create({ name: dead.slice(1), channelType: Channel_ChannelType.WEBHOOK, options: { url: `${hooks.url}${dead}` } });
    const sent = await Promise.all(Array.from({ length: 4 }, (_, i) => notifications.send({ title: `Down ${i}`, message: "x", channels: [channelId] })));

    await expect.poll(() => hooks.to(dead).length, { timeout: 15_000, interval: 20 }).toBeGreaterThanOrEqual(THRESHOLD);
    const openedAt = hooks.to(dead)[THRESHOLD - 1].at;
    // Well inside the reset: with a breaker per replica each would have made its own 3 attempts by now.
    await sleep(Math.max(0, openedAt + RESET_MS / 2 - Date.now()));
    expect(hooks.to(dead)).toHaveLength(THRESHOLD);

    // Watch three resets: each lets one probe through (it fails, and the breaker opens again).
    await sleep(3.5 * RESET_MS);
    const requests = hooks.to(dead);
    const probes = requests.slice(THRESHOLD);
    expect(probes.length).toBeGreaterThanOrEqual(1);
    expect(probes.length).toBeLessThanOrEqual(4);
    const gaps = requests.slice(THRESHOLD - 1).map((r, i, all) => (i === 0 ? Infinity : r.at - all[i - 1].at));
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(RESET_MS * 0.75);

    // Only real attempts are recorded: every attempt in the history reached the endpoint.
    const histories = await Promise.all(sent.map(({ notificationId }) => notifications.get({ notificationId })));
    const made = histories.flatMap((n) => n.deliveries.filter((d) => d.status !== Delivery_Status.PENDING));
    expect(made.every((d) => d.status === Delivery_Status.FAILED && d.error === "HTTP 503")).toBe(true);
    expect(made).toHaveLength(requests.length);
  });
});

describe("two replicas share endpoint slots and delivery leases", () => {
  const LIMIT = 2;
  let platform: TestPlatform;
  let second: RunningService;
  let hooks: HttpReceiver;
  let channels: Client<typeof ChannelService>;
  let notifications: Client<typeof NotificationService>;

  beforeAll(async () => {
    hooks = await startHttpReceiver();
    ({ platform, second } = await startTwoReplicas({
      NOTIFICATION_ENDPOINT_CONCURRENCY: String(LIMIT),
      // Short enough that the stalled attempt below outlives it twice over; long enough that a renewal
      // (every third of it) delayed by a noisy shared machine does not let it lapse.
      NOTIFICATION_DELIVERY_LEASE_MS: "5000",
      NOTIFICATION_DELIVERY_TIMEOUT_MS: "20000",
      CLOUDFORET_OUTBOUND_TIMEOUT_MS: "20000",
    }));
    channels = platform.client(ChannelService);
    notifications = platform.client(NotificationService);
  });

  afterAll(async () => {
    await second?.close();
    await platform?.close();
    await hooks?.close();
  });

  it("a slow endpoint never has more than the in-flight limit open, over both replicas", async () => {
    const slow = `/${fresh("slow")}`;
    hooks.delay(slow, 600);
    const { channelId } = await channels.create({ name: slow.slice(1), channelType: Channel_ChannelType.WEBHOOK, options: { url: `${hooks.url}${slow}` } });
    const sent = await Promise.all(Array.from({ length: 8 }, (_, i) => notifications.send({ title: `Slow ${i}`, message: "x", channels: [channelId] })));
    for (const { notificationId } of sent) {
      await expect
        .poll(async () => (await notifications.get({ notificationId })).deliveries.some((d) => d.status === Delivery_Status.SUCCEEDED), { timeout: 30_000, interval: 100 })
        .toBe(true);
    }
    expect(hooks.to(slow)).toHaveLength(8);
    expect(hooks.maxConcurrent(slow)).toBeLessThanOrEqual(LIMIT);
  });

  it("a delivery whose attempt outlasts its lease is sent once, not twice", async () => {
    // The first request is answered only after 12 s: more than twice the 5 s lease.
    const stall = `/${fresh("stall")}`;
    hooks.delay(stall, 12_000, 1);
    const { channelId } = await channels.create({ name: stall.slice(1), channelType: Channel_ChannelType.WEBHOOK, options: { url: `${hooks.url}${stall}` } });
    const { notificationId } = await notifications.send({ title: "Stall", message: "x", channels: [channelId] });
    await expect.poll(() => hooks.to(stall).length, { timeout: 10_000, interval: 20 }).toBe(1);
    // The lease as the database sees it: at most 5 s from now (what NOTIFICATION_DELIVERY_LEASE_MS sets),
    // so a worker that does not keep its lease loses the row to the other replica mid-attempt.
    const sql = postgres(platform.databaseUrl, { max: 1, onnotice: () => {} });
    try {
      await sql`update notification.delivery_queue set leased_until = least(leased_until, now() + interval '5 seconds') where notification_id = ${notificationId}`;
    } finally {
      await sql.end();
    }
    await expect
      .poll(async () => (await notifications.get({ notificationId })).deliveries.some((d) => d.status === Delivery_Status.SUCCEEDED), { timeout: 30_000, interval: 100 })
      .toBe(true);
    await sleep(1500);
    const { deliveries } = await notifications.get({ notificationId });
    expect(deliveries.map((d) => [Delivery_Status[d.status], d.attempt])).toEqual([["SUCCEEDED", 1]]);
    expect(hooks.to(stall)).toHaveLength(1);
  }, 60_000);
});

describe("sealing keys outside the embedded mode", () => {
  it("notification refuses to start with DATABASE_URL and no NOTIFICATION_CREDENTIALS_KEYS", async () => {
    const database = await createTestDatabase("notif_keys");
    try {
      const env = { DATABASE_URL: database.url, NOTIFICATION_ADDR: "127.0.0.1:0", LOG_LEVEL: "silent" };
      const err = await startService(notificationModule, env).then(
        async (running) => {
          await running.close();
          return undefined;
        },
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toContain("NOTIFICATION_CREDENTIALS_KEYS is required when DATABASE_URL is set");
    } finally {
      await database.drop();
    }
  });
});
