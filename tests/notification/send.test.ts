import { Code, type Client } from "@connectrpc/connect";
import { decodeError } from "@cloudforet/errors";
import { SecretService } from "@cloudforet/proto/cloudforet/identity/v1/secret_pb";
import { WorkspaceService } from "@cloudforet/proto/cloudforet/identity/v1/workspace_pb";
import { Channel_ChannelType, ChannelService } from "@cloudforet/proto/cloudforet/notification/v1/channel_pb";
import { Delivery_Status } from "@cloudforet/proto/cloudforet/notification/v1/delivery_pb";
import { Notification_NotificationType, Notification_Severity, NotificationService } from "@cloudforet/proto/cloudforet/notification/v1/notification_pb";
import { notificationModule } from "@cloudforet/notification";
import { secretCanary } from "@cloudforet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPlatform, type TestPlatform } from "../support/platform";
import { notificationTestEnv } from "./support/env";
import { startHttpReceiver, startSmtpReceiver, type HttpReceiver, type SmtpReceiver } from "./support/receivers";

let platform: TestPlatform;
let channels: Client<typeof ChannelService>;
let notifications: Client<typeof NotificationService>;
let slack: HttpReceiver;
let hooks: HttpReceiver;
let smtp: SmtpReceiver;
const ids: Record<string, string> = {};

const SLACK_PATH = "/services/T0001/B0001/abcdefghijklmnop";
// Canaries (packages/testing): the suite's secrets sweep looks for them in every table and log line.
const SMTP_LOGIN = { username: "mailer@company.com", password: secretCanary("smtp_password") };
const HOOK_TOKEN = secretCanary("hook_token");

/** Seed 000 §6 "Send Notification", the request exactly as written. */
const seedSendRequest = {
  title: "Collection Complete: Nutanix Plugin",
  message: "Successfully collected 450 resources. 3 errors occurred.",
  severity: "WARNING",
  notification_type: "USER",
  tags: {
    collector_id: "collector-nutanix-001",
    job_id: "job-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
    resource_count: "450",
    error_count: "3",
  },
  channels: ["slack", "email"],
  recipients: ["ops-team@company.com", "#cloud-ops"],
};

const failure = (promise: Promise<unknown>) => promise.then(() => expect.fail("expected an error"), (err) => decodeError(err));

/** Calls an RPC with the Connect protocol's JSON, as a Python or curl client of the seed would. */
async function postJson(method: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${platform.url("notification")}/cloudforet.notification.v1.${method}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${platform.admin.token}` },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/** Waits until every named channel has a finished attempt on the notification. */
async function settledDeliveries(notificationId: string, channelIds: string[]) {
  await expect
    .poll(async () => {
      const got = await notifications.get({ notificationId });
      return channelIds.every((c) => got.deliveries.some((d) => d.channel === c && d.status !== Delivery_Status.PENDING));
    }, { timeout: 10_000, interval: 50 })
    .toBe(true);
  return notifications.get({ notificationId });
}

beforeAll(async () => {
  [slack, hooks, smtp] = await Promise.all([startHttpReceiver(), startHttpReceiver(), startSmtpReceiver(SMTP_LOGIN)]);
  platform = await startTestPlatform({ modules: [notificationModule], env: notificationTestEnv() });
  channels = platform.client(ChannelService);
  notifications = platform.client(NotificationService);
  await platform.client(WorkspaceService).create({ workspaceId: "ws-ops", name: "Operations" });
  const secrets = platform.client(SecretService);
  const smtpSecret = await secrets.create({ name: "smtp-login", data: SMTP_LOGIN, workspaceId: "ws-ops" });
  const hookSecret = await secrets.create({ name: "hook-auth", data: { headers: { Authorization: `Bearer ${HOOK_TOKEN}` } }, workspaceId: "ws-ops" });
  ids.slack = (await channels.create({
    name: "ops-slack",
    channelType: Channel_ChannelType.SLACK,
    options: { url: `${slack.url}${SLACK_PATH}`, channel: "#general", username: "CloudForet" },
  })).channelId;
  ids.email = (await channels.create({
    name: "ops-email",
    channelType: Channel_ChannelType.EMAIL,
    options: { host: smtp.host, port: smtp.port, from: "CloudForet <cloudforet@company.com>", to: ["fallback@company.com"] },
    secretId: smtpSecret.secretId,
  })).channelId;
  ids.webhook = (await channels.create({
    name: "ops-webhook",
    channelType: Channel_ChannelType.WEBHOOK,
    options: { url: `${hooks.url}/hooks/cloudforet`, headers: { "X-Team": "ops" } },
    secretId: hookSecret.secretId,
  })).channelId;
});

afterAll(async () => {
  await platform?.close();
  await Promise.all([slack?.close(), hooks?.close(), smtp?.close()]);
});

describe("NotificationService.Send — seed 000 §6", () => {
  it("answers the seed's request with exactly the seed's response, then delivers to Slack and e-mail", async () => {
    const { status, json } = await postJson("NotificationService/Send", seedSendRequest);
    expect(status).toBe(200);
    expect(Object.keys(json).sort()).toEqual(["created_at", "is_read", "notification_id", "severity", "title"]);
    expect(json).toMatchObject({ title: "Collection Complete: Nutanix Plugin", severity: "WARNING", is_read: false });
    expect(json.notification_id).toMatch(/^notif-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(json.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    const notificationId = json.notification_id as string;

    const got = await settledDeliveries(notificationId, [ids.slack, ids.email]);
    expect(got.deliveries.map((d) => [d.channel, Delivery_Status[d.status], d.attempt, d.error])).toEqual(
      expect.arrayContaining([
        [ids.slack, "SUCCEEDED", 1, ""],
        [ids.email, "SUCCEEDED", 1, ""],
      ]),
    );
    expect(got.deliveries).toHaveLength(2); // "slack" and "email" name channel types; the webhook is not one of them

    // The Slack incoming webhook got {text, blocks}, posted to the "#" recipient.
    const [post] = slack.to(SLACK_PATH);
    expect(post.method).toBe("POST");
    expect(post.headers["content-type"]).toBe("application/json");
    expect(post.body).toEqual({
      text: "[WARNING] Collection Complete: Nutanix Plugin: Successfully collected 450 resources. 3 errors occurred.",
      blocks: [
        { type: "header", text: { type: "plain_text", text: "Collection Complete: Nutanix Plugin", emoji: true } },
        { type: "section", text: { type: "mrkdwn", text: "Successfully collected 450 resources. 3 errors occurred." } },
        {
          type: "context",
          elements: [
            {
              type: "mrkdwn",
              text: ":warning: WARNING · collector_id: collector-nutanix-001 · error_count: 3 · job_id: job-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx · resource_count: 450",
            },
          ],
        },
      ],
      channel: "#cloud-ops",
      username: "CloudForet",
    });

    // The e-mail went over SMTP, logged in with the secret's credentials, to the e-mail recipient.
    expect(smtp.mails).toHaveLength(1);
    const [mail] = smtp.mails;
    expect(mail).toMatchObject({ from: "cloudforet@company.com", to: ["ops-team@company.com"], subject: "[WARNING] Collection Complete: Nutanix Plugin", user: SMTP_LOGIN.username });
    expect(mail.text).toContain("Successfully collected 450 resources. 3 errors occurred.");
    expect(mail.text).toContain("collector_id: collector-nutanix-001");
    expect(mail.text).toContain(notificationId);
    expect(mail.html).toContain("<h2>Collection Complete: Nutanix Plugin</h2>");
  });

  it("reads the notification back with every field and its delivery attempts", async () => {
    const sent = await notifications.send({
      title: "Disk almost full",
      message: "vm-01 /var is 91% full",
      severity: Notification_Severity.ERROR,
      tags: { resource_id: "vm-01" },
      channels: [ids.slack],
    });
    const got = await settledDeliveries(sent.notificationId, [ids.slack]);
    expect(got).toMatchObject({
      notificationId: sent.notificationId,
      title: "Disk almost full",
      message: "vm-01 /var is 91% full",
      severity: Notification_Severity.ERROR,
      notificationType: Notification_NotificationType.USER,
      tags: { resource_id: "vm-01" },
      channels: [ids.slack],
      recipients: [],
      isRead: false,
      domainId: "domain-default",
      workspaceId: "",
    });
    expect(got.readAt).toBeUndefined();
    expect(got.deliveries).toHaveLength(1);
    expect(got.deliveries[0]).toMatchObject({ channel: ids.slack, status: Delivery_Status.SUCCEEDED, attempt: 1, error: "" });
    expect(got.deliveries[0].at).toBeDefined();
    // Without a "#" recipient the Slack post goes to the channel's own channel.
    expect((slack.to(SLACK_PATH).at(-1)?.body as { channel: string }).channel).toBe("#general");
  });

  it("posts the notification as JSON to a webhook, with the secret's headers merged in", async () => {
    const sent = await notifications.send({ title: "Webhook check", message: "hello", channels: ["webhook"], recipients: ["oncall@company.com", "#ops"], tags: { a: "b" } });
    await settledDeliveries(sent.notificationId, [ids.webhook]);
    const [request] = hooks.to("/hooks/cloudforet");
    expect(request.method).toBe("POST");
    expect(request.headers).toMatchObject({
      authorization: `Bearer ${HOOK_TOKEN}`,
      "x-team": "ops",
      "idempotency-key": `${sent.notificationId}/${ids.webhook}`,
      "x-cloudforet-notification-id": sent.notificationId,
    });
    expect(request.body).toEqual({
      notification_id: sent.notificationId,
      title: "Webhook check",
      message: "hello",
      severity: "INFO",
      notification_type: "USER",
      tags: { a: "b" },
      channels: ["webhook"],
      recipients: ["oncall@company.com", "#ops"],
      is_read: false,
      domain_id: "domain-default",
      workspace_id: "",
      created_at: expect.stringMatching(/Z$/),
    });
  });

  it("addresses channels by id, name or type, records unmatched entries as SKIPPED, and uses every channel when none is named", async () => {
    const sent = await notifications.send({ title: "Routing", message: "x", channels: [ids.slack, "ops-email", "pagerduty"], recipients: ["dba@company.com"] });
    const got = await settledDeliveries(sent.notificationId, [ids.slack, ids.email]);
    expect(got.deliveries.find((d) => d.channel === "pagerduty")).toMatchObject({ status: Delivery_Status.SKIPPED, attempt: 1, error: 'no channel matches "pagerduty" (by id, name or type)' });
    expect(smtp.mails.at(-1)?.to).toEqual(["dba@company.com"]);

    const everywhere = await notifications.send({ title: "Broadcast", message: "to all" });
    const all = await settledDeliveries(everywhere.notificationId, [ids.slack, ids.email, ids.webhook]);
    expect(all.deliveries.map((d) => d.status)).toEqual([Delivery_Status.SUCCEEDED, Delivery_Status.SUCCEEDED, Delivery_Status.SUCCEEDED]);
    // No e-mail recipient named: the channel's default `to`.
    expect(smtp.mails.at(-1)).toMatchObject({ subject: "[INFO] Broadcast", to: ["fallback@company.com"] });
  });

  it("rejects a missing title or message and a title over 255 characters with INVALID_ARGUMENT naming the field", async () => {
    const noTitle = await postJson("NotificationService/Send", { ...seedSendRequest, title: "" });
    expect(noTitle.status).toBe(400);
    expect(await failure(notifications.send({ message: "m" }))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", grpcCode: Code.InvalidArgument, message: "Missing required field", metadata: { parameter: "title" } });
    expect(await failure(notifications.send({ title: "t" }))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "message" } });
    expect(await failure(notifications.send({ title: "x".repeat(256), message: "m" }))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "title" } });
    expect(await failure(notifications.send({ title: "t", message: "m", severity: 99 as Notification_Severity }))).toMatchObject({ metadata: { parameter: "severity", value: "99" } });
    expect(await failure(notifications.send({ title: "t", message: "m", tags: { "bad key!": "v" } }))).toMatchObject({ metadata: { parameter: "tags" } });
    expect(await failure(notifications.send({ title: "t", message: "m", channels: [""] }))).toMatchObject({ metadata: { parameter: "channels[0]" } });
    expect(await failure(notifications.send({ title: "t", message: "m", workspaceId: "bad workspace" }))).toMatchObject({ metadata: { parameter: "workspace_id" } });
  });

  it("answers NOT_FOUND for an unknown notification and INVALID_ARGUMENT for a missing id", async () => {
    expect(await failure(notifications.get({ notificationId: "notif-missing" }))).toMatchObject({ code: "ERROR_NOT_FOUND", grpcCode: Code.NotFound, metadata: { notification_id: "notif-missing" } });
    expect(await failure(notifications.get({}))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "notification_id" } });
    const overJson = await postJson("NotificationService/Get", { notification_id: "notif-missing" });
    expect(overJson).toMatchObject({ status: 404, json: { code: "not_found" } });
  });

  it("shows a queued delivery as PENDING until its attempt is made", async () => {
    const sent = await notifications.send({ title: "Queued", message: "x", channels: [ids.webhook] });
    const got = await notifications.get({ notificationId: sent.notificationId });
    // Either still queued (PENDING, attempt 1) or already attempted; never both, never missing.
    expect(got.deliveries).toHaveLength(1);
    expect(got.deliveries[0]).toMatchObject({ channel: ids.webhook, attempt: 1 });
    expect([Delivery_Status.PENDING, Delivery_Status.SUCCEEDED]).toContain(got.deliveries[0].status);
    await settledDeliveries(sent.notificationId, [ids.webhook]);
  });
});

describe("NotificationService.List and MarkRead", () => {
  it("lists newest first, with filters on severity, tags and is_read, paging, only and total_count", async () => {
    const all = await notifications.list({});
    expect(all.totalCount).toBe(6); // sent by the tests above
    const times = all.results.map((n) => Number(n.createdAt?.seconds) * 1e9 + (n.createdAt?.nanos ?? 0));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(all.results[0].deliveries.length).toBeGreaterThan(0);

    const { json } = await postJson("NotificationService/List", {
      query: { filter: [{ k: "severity", v: "WARNING", o: "eq" }, { k: "tags.collector_id", v: "collector-nutanix-001" }], only: ["notification_id", "title", "severity"] },
    });
    expect(json.total_count).toBe(1);
    const [warning] = json.results as Record<string, unknown>[];
    expect(warning).toMatchObject({ title: "Collection Complete: Nutanix Plugin", severity: "WARNING" });
    expect(warning.message).toBe(""); // trimmed by `only`

    const page = await notifications.list({ query: { page: { start: 1, limit: 2 }, sort: { key: "title" } } });
    expect(page.results.map((n) => n.title)).toEqual([...all.results.map((n) => n.title)].sort().slice(1, 3));
    const bad = await failure(notifications.list({ query: { filter: [{ k: "nope", o: "eq" }] } }));
    expect(bad).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "query.filter[0]" } });
  });

  it("marks read idempotently, counting only the unread, and changes nothing when an id is unknown", async () => {
    const a = await notifications.send({ title: "read me", message: "1", channels: ["none-such"] });
    const b = await notifications.send({ title: "read me too", message: "2", channels: ["none-such"] });
    const unknown = await failure(notifications.markRead({ notificationIds: [a.notificationId, "notif-unknown"] }));
    expect(unknown).toMatchObject({ code: "ERROR_NOT_FOUND", metadata: { notification_id: "notif-unknown" } });
    expect((await notifications.get({ notificationId: a.notificationId })).isRead).toBe(false);

    expect(await notifications.markRead({ notificationIds: [a.notificationId] })).toMatchObject({ updatedCount: 1 });
    expect(await notifications.markRead({ notificationIds: [a.notificationId, b.notificationId, a.notificationId] })).toMatchObject({ updatedCount: 1 });
    expect(await notifications.markRead({ notificationIds: [a.notificationId, b.notificationId] })).toMatchObject({ updatedCount: 0 });
    const read = await notifications.get({ notificationId: a.notificationId });
    expect(read.isRead).toBe(true);
    expect(read.readAt).toBeDefined();

    const unread = await notifications.list({ query: { filter: [{ k: "is_read", v: { kind: { case: "boolValue", value: false } } }], countOnly: true } });
    const readCount = await notifications.list({ query: { filter: [{ k: "is_read", v: { kind: { case: "boolValue", value: true } } }] } });
    expect(readCount.totalCount).toBe(2);
    expect(unread.totalCount + readCount.totalCount).toBe((await notifications.list({})).totalCount);

    expect(await failure(notifications.markRead({}))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "notification_ids" } });
    expect(await failure(notifications.markRead({ notificationIds: Array.from({ length: 1001 }, (_, i) => `notif-${i}`) }))).toMatchObject({ metadata: { parameter: "notification_ids" } });
  });
});
