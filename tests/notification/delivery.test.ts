import type { Client } from "@connectrpc/connect";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Channel_ChannelType, ChannelService } from "@cloudforet/proto/cloudforet/notification/v1/channel_pb";
import { Delivery_Status, type Delivery } from "@cloudforet/proto/cloudforet/notification/v1/delivery_pb";
import { NotificationService } from "@cloudforet/proto/cloudforet/notification/v1/notification_pb";
import { notificationModule } from "@cloudforet/notification";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPlatform, type TestPlatform } from "../support/platform";
import { notificationTestEnv } from "./support/env";
import { startHttpReceiver, type HttpReceiver } from "./support/receivers";

// The policy under test: 4 attempts, 30 ms · 2^n backoff, breaker opening after 3 failures in a row
// and staying open for a minute, 4 s per attempt, 2 attempts in flight per endpoint.
const MAX_ATTEMPTS = 4;
const BASE_MS = 30;
const TIMEOUT_MS = 4000;

let platform: TestPlatform;
let channels: Client<typeof ChannelService>;
let notifications: Client<typeof NotificationService>;
let hooks: HttpReceiver;
const ids: Record<string, string> = {};

async function webhook(name: string, path: string): Promise<string> {
  const created = await channels.create({ name, channelType: Channel_ChannelType.WEBHOOK, options: { url: `${hooks.url}${path}` } });
  ids[name] = created.channelId;
  return created.channelId;
}

/** The attempts made on a channel (PENDING entries are the next attempt, not one made). */
const attemptsOn = (deliveries: Delivery[], channelId: string) => deliveries.filter((d) => d.channel === channelId && d.status !== Delivery_Status.PENDING);
const made = (deliveries: Delivery[]) => deliveries.filter((d) => d.status !== Delivery_Status.PENDING);
const summary = (deliveries: Delivery[]) => deliveries.map((d) => [Delivery_Status[d.status], d.attempt]);

/** Polls Get until `done` holds for the notification's deliveries. */
async function deliveriesWhen(notificationId: string, done: (deliveries: Delivery[]) => boolean, timeout = 10_000): Promise<Delivery[]> {
  let last: Delivery[] = [];
  await expect
    .poll(async () => {
      last = (await notifications.get({ notificationId })).deliveries;
      return done(last);
    }, { timeout, interval: 25 })
    .toBe(true);
  return last;
}

beforeAll(async () => {
  hooks = await startHttpReceiver();
  platform = await startTestPlatform({
    modules: [notificationModule],
    env: notificationTestEnv({
      NOTIFICATION_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
      NOTIFICATION_RETRY_BASE_MS: String(BASE_MS),
      NOTIFICATION_BREAKER_FAILURES: "3",
      NOTIFICATION_BREAKER_RESET_MS: "60000",
      NOTIFICATION_DELIVERY_TIMEOUT_MS: String(TIMEOUT_MS),
      NOTIFICATION_ENDPOINT_CONCURRENCY: "2",
    }),
  });
  channels = platform.client(ChannelService);
  notifications = platform.client(NotificationService);
});

afterAll(async () => {
  await platform?.close();
  await hooks?.close();
});

describe("delivery retries, failure and the circuit breaker", () => {
  it("retries a failing endpoint with exponential backoff, marks it failed, opens its breaker, and still delivers to a healthy channel", async () => {
    hooks.respond("/down", 500, "boom");
    const down = await webhook("down", "/down");
    const up = await webhook("up", "/up");

    const first = await notifications.send({ title: "Outage", message: "first", channels: ["down", "up"] });
    const deliveries = await deliveriesWhen(first.notificationId, (d) => attemptsOn(d, down).length === 3 && d.some((x) => x.channel === down && x.status === Delivery_Status.PENDING && x.error !== ""));
    expect(summary(attemptsOn(deliveries, up))).toEqual([["SUCCEEDED", 1]]);
    const tries = attemptsOn(deliveries, down);
    expect(summary(tries)).toEqual([
      ["FAILED", 1],
      ["FAILED", 2],
      ["FAILED", 3],
    ]);
    expect(tries.map((d) => d.error)).toEqual(["HTTP 500", "HTTP 500", "HTTP 500"]);
    // Exponential backoff: 30 ms, then 60 ms between attempts.
    const at = tries.map((d) => timestampMs(d.at!));
    expect(at[1] - at[0]).toBeGreaterThanOrEqual(BASE_MS - 2);
    expect(at[2] - at[1]).toBeGreaterThanOrEqual(2 * BASE_MS - 2);
    // The 3rd failure opened the breaker: the 4th attempt is not made (nor recorded) but waits for the probe, a minute on.
    const waiting = deliveries.find((d) => d.channel === down && d.status === Delivery_Status.PENDING);
    expect(waiting).toMatchObject({ attempt: 4, error: expect.stringMatching(/^circuit breaker open for http:\/\/127\.0\.0\.1:\d+: waiting for its next probe$/) });
    expect(timestampMs(waiting!.at!) - Date.now()).toBeGreaterThan(50_000);
    expect(hooks.to("/down")).toHaveLength(3);

    // While the breaker is open, new deliveries to that endpoint are not attempted at all: their
    // history holds no attempt, only the PENDING entry saying why; the healthy channel delivers at once.
    const second = await notifications.send({ title: "Outage", message: "second", channels: ["down", "up"] });
    const later = await deliveriesWhen(second.notificationId, (d) => attemptsOn(d, up).length === 1);
    await new Promise((resolve) => setTimeout(resolve, 8 * BASE_MS));
    const after = (await notifications.get({ notificationId: second.notificationId })).deliveries;
    expect(summary(attemptsOn(later, up))).toEqual([["SUCCEEDED", 1]]);
    expect(attemptsOn(after, down)).toEqual([]);
    const next = after.find((d) => d.channel === down && d.status === Delivery_Status.PENDING);
    expect(next).toMatchObject({ attempt: 1, error: expect.stringMatching(/^circuit breaker open for /) });
    expect(timestampMs(next!.at!) - Date.now()).toBeGreaterThan(50_000);
    expect(hooks.to("/down")).toHaveLength(3);
    expect(hooks.to("/up")).toHaveLength(2);
  });

  it("keeps every attempt when an endpoint recovers: FAILED, FAILED, SUCCEEDED", async () => {
    hooks.failNext("/flaky", 2, 503);
    const flaky = await webhook("flaky", "/flaky");
    const sent = await notifications.send({ title: "Flaky", message: "eventually", channels: [flaky] });
    const deliveries = made(await deliveriesWhen(sent.notificationId, (d) => d.some((x) => x.status === Delivery_Status.SUCCEEDED)));
    expect(summary(deliveries)).toEqual([
      ["FAILED", 1],
      ["FAILED", 2],
      ["SUCCEEDED", 3],
    ]);
    expect(deliveries[0].error).toBe("HTTP 503"); // the endpoint's body is never echoed
    expect(hooks.to("/flaky")).toHaveLength(3);
    // The idempotency key is the same on every attempt, so the receiver can drop duplicates.
    expect(new Set(hooks.to("/flaky").map((r) => r.headers["idempotency-key"]))).toEqual(new Set([`${sent.notificationId}/${flaky}`]));
  });

  it("does not retry an answer that will not change (HTTP 404)", async () => {
    hooks.respond("/gone", 404, "no such hook");
    const gone = await webhook("gone", "/gone");
    const sent = await notifications.send({ title: "Gone", message: "x", channels: [gone] });
    const deliveries = made(await deliveriesWhen(sent.notificationId, (d) => made(d).length > 0));
    expect(deliveries).toMatchObject([{ status: Delivery_Status.FAILED, attempt: 1, error: "HTTP 404" }]);
    await new Promise((resolve) => setTimeout(resolve, 8 * BASE_MS));
    expect((await notifications.get({ notificationId: sent.notificationId })).deliveries).toHaveLength(1);
    expect(hooks.to("/gone")).toHaveLength(1);
  });

  it("a hanging endpoint takes at most its own slots and never holds up the other channels", async () => {
    hooks.respond("/hang", "hang");
    const hang = await webhook("hang", "/hang");
    const steady = await webhook("steady", "/steady");
    const started = Date.now();
    const sent = await Promise.all(
      Array.from({ length: 6 }, (_, i) => notifications.send({ title: `Burst ${i}`, message: "x", channels: [hang, steady] })),
    );
    for (const { notificationId } of sent) {
      await deliveriesWhen(notificationId, (d) => attemptsOn(d, steady).some((x) => x.status === Delivery_Status.SUCCEEDED), TIMEOUT_MS);
    }
    // All six reached the healthy endpoint before the first hanging attempt timed out…
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS);
    expect(hooks.to("/steady")).toHaveLength(6);
    // …while the hanging one had only its 2 concurrent attempts open.
    expect(hooks.to("/hang")).toHaveLength(2);

    // The timed-out attempts are recorded as such (and retried).
    let hangAttempts: Delivery[] = [];
    await expect
      .poll(async () => {
        const all = await Promise.all(sent.map(({ notificationId }) => notifications.get({ notificationId })));
        hangAttempts = all.flatMap((n) => attemptsOn(n.deliveries, hang));
        return hangAttempts.length;
      }, { timeout: 2 * TIMEOUT_MS, interval: 50 })
      .toBeGreaterThanOrEqual(2);
    expect(hangAttempts.filter((d) => d.attempt === 1 && d.status === Delivery_Status.FAILED).map((d) => d.error)).toEqual([
      `timed out after ${TIMEOUT_MS} ms`,
      `timed out after ${TIMEOUT_MS} ms`,
    ]);
  });

  it("fails queued deliveries of a channel deleted before they ran", async () => {
    hooks.failNext("/deleted", 1, "hang");
    const doomed = await webhook("doomed", "/deleted");
    const sent = await notifications.send({ title: "Doomed", message: "x", channels: [doomed] });
    await expect.poll(() => hooks.to("/deleted").length).toBe(1);
    await channels.delete({ channelId: doomed }); // while the first attempt hangs
    const deliveries = made(await deliveriesWhen(sent.notificationId, (d) => made(d).length === 2, 2 * TIMEOUT_MS));
    expect(deliveries[0]).toMatchObject({ status: Delivery_Status.FAILED, attempt: 1, error: `timed out after ${TIMEOUT_MS} ms` });
    expect(deliveries[1]).toMatchObject({ channel: doomed, status: Delivery_Status.FAILED, attempt: 2, error: "the channel was deleted" });
  });
});
