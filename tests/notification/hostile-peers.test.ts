import type { Client } from "@connectrpc/connect";
import { WorkspaceService } from "@cloudforet/proto/cloudforet/identity/v1/workspace_pb";
import { Channel_ChannelType, ChannelService } from "@cloudforet/proto/cloudforet/notification/v1/channel_pb";
import { Delivery_Status, type Delivery } from "@cloudforet/proto/cloudforet/notification/v1/delivery_pb";
import { NotificationService } from "@cloudforet/proto/cloudforet/notification/v1/notification_pb";
import { notificationModule } from "@cloudforet/notification";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rssMb, startHostileHttpServer, type HostileHttpServer } from "../outbound/support/hostile-http";
import { startTestPlatform, type TestPlatform } from "../support/platform";
import { startDripSmtpServer, type DripSmtpServer } from "./support/drip-smtp";
import { notificationTestEnv } from "./support/env";
import { startHttpReceiver, type HttpReceiver } from "./support/receivers";

// Hostile peers of the delivery worker (README "Security"): SMTP servers that drip an endless reply,
// more of them than there are delivery slots, and a webhook answering 500 with a 1 GiB body. A
// healthy webhook of another workspace must still be delivered, and nothing may stay open.

const CONCURRENCY = 2;
const TIMEOUT_MS = 2_000;
const MAX_ATTEMPTS = 2;
const HOSTILE_SMTP = CONCURRENCY + 1;

let platform: TestPlatform;
let channels: Client<typeof ChannelService>;
let notifications: Client<typeof NotificationService>;
let drips: DripSmtpServer[] = [];
let hooks: HttpReceiver;
let hostile: HostileHttpServer;

beforeAll(async () => {
  [hooks, hostile, ...drips] = await Promise.all([startHttpReceiver(), startHostileHttpServer(), ...Array.from({ length: HOSTILE_SMTP }, () => startDripSmtpServer())]);
  platform = await startTestPlatform({
    modules: [notificationModule],
    env: notificationTestEnv({
      NOTIFICATION_DELIVERY_CONCURRENCY: String(CONCURRENCY),
      NOTIFICATION_DELIVERY_TIMEOUT_MS: String(TIMEOUT_MS),
      NOTIFICATION_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
      NOTIFICATION_BREAKER_FAILURES: "50",
      NOTIFICATION_POLL_MS: "100",
    }),
  });
  const workspaces = platform.client(WorkspaceService);
  await workspaces.create({ workspaceId: "ws-hostile", name: "Hostile" });
  await workspaces.create({ workspaceId: "ws-healthy", name: "Healthy" });
  channels = platform.client(ChannelService);
  notifications = platform.client(NotificationService);
}, 120_000);

afterAll(async () => {
  await platform?.close();
  await Promise.all([hooks?.close(), hostile?.close(), ...drips.map((d) => d.close())]);
});

async function deliveriesWhen(notificationId: string, done: (deliveries: Delivery[]) => boolean, timeout: number): Promise<Delivery[]> {
  let last: Delivery[] = [];
  await expect
    .poll(async () => {
      last = (await notifications.get({ notificationId })).deliveries;
      return done(last);
    }, { timeout, interval: 50 })
    .toBe(true);
  return last;
}

const finished = (deliveries: Delivery[], channelIds: string[]) =>
  channelIds.every((c) => deliveries.some((d) => d.channel === c && d.status !== Delivery_Status.PENDING && (d.status === Delivery_Status.SUCCEEDED || d.attempt === MAX_ATTEMPTS)));

describe("SMTP servers dripping an endless reply", () => {
  it("hold a slot no longer than the deadline: a healthy webhook of another workspace is delivered, the drips fail after max attempts, no socket outlives its deadline", async () => {
    const smtpIds: string[] = [];
    for (const [i, drip] of drips.entries()) {
      const created = await channels.create({
        name: `drip-${i}`,
        channelType: Channel_ChannelType.EMAIL,
        options: { host: drip.host, port: drip.port, from: "cloudforet@company.com", to: ["ops@company.com"] },
        workspaceId: "ws-hostile",
      });
      smtpIds.push(created.channelId);
    }
    const healthy = await channels.create({ name: "healthy", channelType: Channel_ChannelType.WEBHOOK, options: { url: `${hooks.url}/healthy` }, workspaceId: "ws-healthy" });

    const hostileSend = await notifications.send({ title: "to the drips", message: "m", channels: drips.map((_, i) => `drip-${i}`), workspaceId: "ws-hostile" });
    // Every delivery slot is taken by a drip before the healthy one is even sent.
    await expect.poll(() => drips.reduce((n, d) => n + d.open(), 0), { timeout: 10_000, interval: 20 }).toBe(CONCURRENCY);
    const sentAt = Date.now();
    const healthySend = await notifications.send({ title: "healthy", message: "m", channels: ["healthy"], workspaceId: "ws-healthy" });
    await expect.poll(() => hooks.to("/healthy").length, { timeout: TIMEOUT_MS + 5_000, interval: 20 }).toBe(1);
    expect(hooks.to("/healthy")[0].at - sentAt).toBeLessThan(TIMEOUT_MS + 3_000);
    const healthyDeliveries = await deliveriesWhen(healthySend.notificationId, (d) => finished(d, [healthy.channelId]), 5_000);
    expect(healthyDeliveries.map((d) => [Delivery_Status[d.status], d.attempt])).toEqual([["SUCCEEDED", 1]]);

    // The drips end FAILED after MAX_ATTEMPTS timed-out attempts each.
    const hostileDeliveries = await deliveriesWhen(hostileSend.notificationId, (d) => finished(d, smtpIds), HOSTILE_SMTP * MAX_ATTEMPTS * (TIMEOUT_MS + 1_000) + 10_000);
    for (const channelId of smtpIds) {
      const attempts = hostileDeliveries.filter((d) => d.channel === channelId && d.status !== Delivery_Status.PENDING);
      expect(attempts.map((d) => [Delivery_Status[d.status], d.attempt, d.error])).toEqual(
        Array.from({ length: MAX_ATTEMPTS }, (_, i) => ["FAILED", i + 1, `SMTP: timed out after ${TIMEOUT_MS} ms`]),
      );
    }
    // One connection per attempt, each closed by the deadline (plus scheduling slack), none left open.
    await expect.poll(() => drips.reduce((n, d) => n + d.open(), 0), { timeout: 2_000, interval: 20 }).toBe(0);
    for (const drip of drips) {
      expect(drip.connections).toHaveLength(MAX_ATTEMPTS);
      for (const c of drip.connections) expect(c.closedAt! - c.openedAt).toBeLessThan(TIMEOUT_MS + 1_000);
    }
  });
});

describe("a webhook answering 500 with a 1 GiB body", () => {
  it("fails as HTTP 500 without reading the body: the connection is closed at once, memory stays flat", async () => {
    const channel = await channels.create({ name: "huge-error", channelType: Channel_ChannelType.WEBHOOK, options: { url: `${hostile.url}/huge-error` }, workspaceId: "ws-hostile" });
    const before = rssMb();
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss / (1024 * 1024))), 20);
    const started = Date.now();
    try {
      const sent = await notifications.send({ title: "huge", message: "m", channels: ["huge-error"], workspaceId: "ws-hostile" });
      const deliveries = await deliveriesWhen(sent.notificationId, (d) => finished(d, [channel.channelId]), 20_000);
      expect(deliveries.filter((d) => d.status !== Delivery_Status.PENDING).map((d) => [Delivery_Status[d.status], d.attempt, d.error])).toEqual([
        ["FAILED", 1, "HTTP 500"],
        ["FAILED", 2, "HTTP 500"],
      ]);
    } finally {
      clearInterval(sampler);
    }
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS * MAX_ATTEMPTS);
    expect(peak - before).toBeLessThan(100);
    await expect.poll(() => hostile.openConnections(), { timeout: 2_000, interval: 20 }).toBe(0);
    // What the kernel buffers before the close, not the gigabyte (twice).
    expect(hostile.sentBytes()).toBeLessThan(64 * 1024 * 1024);
  });
});
