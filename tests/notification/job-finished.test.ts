import type { Client } from "@connectrpc/connect";
import postgres from "postgres";
import { acquireSharedInProcessBus, createEvent, type EventBus } from "@cloudforet/events";
import { WorkspaceService } from "@cloudforet/proto/cloudforet/identity/v1/workspace_pb";
import { Channel_ChannelType, ChannelService } from "@cloudforet/proto/cloudforet/notification/v1/channel_pb";
import { Delivery_Status } from "@cloudforet/proto/cloudforet/notification/v1/delivery_pb";
import { Notification_NotificationType, Notification_Severity, NotificationService, type Notification } from "@cloudforet/proto/cloudforet/notification/v1/notification_pb";
import { notificationModule, JOB_FINISHED_SUBJECT, type JobFinishedData } from "@cloudforet/notification";
import { createLogger } from "@cloudforet/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPlatform, type Identity, type TestPlatform } from "../support/platform";
import { notificationTestEnv } from "./support/env";
import { startHttpReceiver, type HttpReceiver } from "./support/receivers";

let bus: EventBus;
let platform: TestPlatform;
let notifications: Client<typeof NotificationService>;
let hooks: HttpReceiver;
let domainB: Identity;
let jobCounter = 0;

const str = (value: string) => ({ kind: { case: "stringValue" as const, value } });

function jobFinished(overrides: Partial<JobFinishedData> = {}, domainId = "domain-default") {
  jobCounter += 1;
  const data: JobFinishedData = {
    job_id: `job-00000000-0000-4000-8000-${String(jobCounter).padStart(12, "0")}`,
    collector_id: "collector-nutanix-001",
    collector_name: "Nutanix Plugin",
    domain_id: domainId,
    status: "FINISHED",
    created_count: 400,
    updated_count: 50,
    deleted_count: 2,
    error_count: 3,
    tags: { provider: "nutanix" },
    ...overrides,
  };
  return createEvent({ subject: JOB_FINISHED_SUBJECT, domainId, data });
}

/** The notifications raised for a job, once at least `count` exist (as `as` sees them). */
async function notificationsOfJob(jobId: string, count = 1, as?: Identity): Promise<Notification[]> {
  const client = as ? platform.client(NotificationService, as) : notifications;
  let found: Notification[] = [];
  await expect
    .poll(async () => {
      found = (await client.list({ query: { filter: [{ k: "tags.job_id", v: str(jobId), o: "eq" }] } })).results;
      return found.length;
    }, { timeout: 10_000, interval: 25 })
    .toBeGreaterThanOrEqual(count);
  return found;
}

const postsFor = (jobId: string, path?: string) =>
  hooks.requests.filter((r) => (!path || r.path === path) && (r.body as { tags?: Record<string, string> }).tags?.job_id === jobId);

beforeAll(async () => {
  // Shared with the services started below; no dedupe window, so a republished event id is delivered again (a redelivery).
  bus = acquireSharedInProcessBus({ logger: createLogger("test", "silent"), duplicateWindowMs: 0 });
  hooks = await startHttpReceiver({ keepJobNotices: true });
  platform = await startTestPlatform({ modules: [notificationModule], env: notificationTestEnv() });
  notifications = platform.client(NotificationService);
  const channels = platform.client(ChannelService);
  await platform.client(WorkspaceService).create({ workspaceId: "ws-a", name: "A" });
  await platform.client(WorkspaceService).create({ workspaceId: "ws-b", name: "B" });
  await channels.create({ name: "domain-hook", channelType: Channel_ChannelType.WEBHOOK, options: { url: `${hooks.url}/domain` } });
  await channels.create({ name: "a-hook", channelType: Channel_ChannelType.WEBHOOK, options: { url: `${hooks.url}/ws-a` }, workspaceId: "ws-a" });
  await channels.create({ name: "b-hook", channelType: Channel_ChannelType.WEBHOOK, options: { url: `${hooks.url}/ws-b` }, workspaceId: "ws-b" });
  domainB = await platform.createDomainAdmin("domain-b");
  await platform.client(ChannelService, domainB).create({ name: "domain-hook", channelType: Channel_ChannelType.WEBHOOK, options: { url: `${hooks.url}/other-domain` } });
});

afterAll(async () => {
  await platform?.close();
  await bus?.close();
  await hooks?.close();
});

describe("cloudforet.inventory.job.finished → notification", () => {
  it("raises the seed's notification without anyone calling Send, exactly once even when the event is delivered twice", async () => {
    const event = jobFinished();
    const jobId = (event.data as JobFinishedData).job_id;
    expect(await bus.publish(event)).toEqual({ duplicate: false });
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await bus.publish(event)).toEqual({ duplicate: false }); // the consumer sees it a second time

    // A later event on the same durable is handled after the redelivery, so once it shows, the duplicate was seen.
    const marker = jobFinished({ collector_name: undefined, created_count: 10, updated_count: 2, error_count: 0 });
    await bus.publish(marker);
    const [markerNotice] = await notificationsOfJob((marker.data as JobFinishedData).job_id);

    const found = await notificationsOfJob(jobId);
    expect(found).toHaveLength(1);
    const [notice] = found;
    expect(notice).toMatchObject({
      title: "Collection Complete: Nutanix Plugin",
      message: "Successfully collected 450 resources. 3 errors occurred.",
      severity: Notification_Severity.WARNING,
      notificationType: Notification_NotificationType.SYSTEM,
      tags: { provider: "nutanix", collector_id: "collector-nutanix-001", job_id: jobId, resource_count: "450", error_count: "3" },
      domainId: "domain-default",
      workspaceId: "",
      isRead: false,
    });
    expect(notice.notificationId).toMatch(/^notif-/);

    // No errors: INFO; no collector name: the collector id.
    expect(markerNotice).toMatchObject({ title: "Collection Complete: collector-nutanix-001", message: "Successfully collected 12 resources.", severity: Notification_Severity.INFO });

    // Delivered to every channel of the domain (the event names no workspace), once each, and nowhere else.
    await expect.poll(() => postsFor(jobId).length).toBe(3);
    expect(postsFor(jobId).map((r) => r.path).sort()).toEqual(["/domain", "/ws-a", "/ws-b"]);
    await expect
      .poll(async () => (await notifications.get({ notificationId: notice.notificationId })).deliveries.map((d) => d.status))
      .toEqual([Delivery_Status.SUCCEEDED, Delivery_Status.SUCCEEDED, Delivery_Status.SUCCEEDED]);

    const sql = postgres(platform.databaseUrl, { max: 1, onnotice: () => {} });
    try {
      const [{ count }] = await sql`select count(*)::int as count from notification.processed_events where event_id = ${event.id}`;
      expect(count).toBe(1);
    } finally {
      await sql.end();
    }
  });

  it("delivers a job of a workspace to that workspace's channels and the domain-wide ones", async () => {
    const event = jobFinished({ workspace_id: "ws-a", error_count: 0 });
    const jobId = (event.data as JobFinishedData).job_id;
    await bus.publish(event);
    const [notice] = await notificationsOfJob(jobId);
    expect(notice.workspaceId).toBe("ws-a");
    await expect.poll(() => postsFor(jobId).map((r) => r.path).sort()).toEqual(["/domain", "/ws-a"]);
  });

  it("reports a failed job as ERROR", async () => {
    const event = jobFinished({ status: "FAILURE", created_count: 5, updated_count: 0, error_count: 1 });
    const [notice] = await notificationsOfJob((await bus.publish(event), (event.data as JobFinishedData).job_id));
    expect(notice).toMatchObject({ title: "Collection Failed: Nutanix Plugin", message: "Collected 5 resources before the job ended FAILURE. 1 error occurred.", severity: Notification_Severity.ERROR });
  });

  it("keeps each domain's jobs to its own channels and inbox", async () => {
    const event = jobFinished({ collector_name: "B's collector" }, "domain-b");
    const jobId = (event.data as JobFinishedData).job_id;
    await bus.publish(event);
    const [notice] = await notificationsOfJob(jobId, 1, domainB);
    expect(notice).toMatchObject({ domainId: "domain-b", title: "Collection Complete: B's collector" });
    await expect.poll(() => postsFor(jobId).map((r) => r.path)).toEqual(["/other-domain"]);
    expect((await notifications.list({ query: { filter: [{ k: "tags.job_id", v: str(jobId) }] } })).totalCount).toBe(0);
  });

  it("drops an event that is not a job.finished payload, and carries on", async () => {
    await bus.publish(createEvent({ subject: JOB_FINISHED_SUBJECT, domainId: "domain-default", data: { nonsense: true } }));
    const next = jobFinished({ error_count: 0 });
    await bus.publish(next);
    await notificationsOfJob((next.data as JobFinishedData).job_id);
    expect((await notifications.list({ query: { filter: [{ k: "tags.job_id", o: "exists", v: { kind: { case: "boolValue", value: false } } }] } })).totalCount).toBe(0);
  });
});
