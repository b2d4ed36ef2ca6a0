import { Code, type Client } from "@connectrpc/connect";
import { decodeError } from "@cloudforet/errors";
import { SecretService } from "@cloudforet/proto/cloudforet/identity/v1/secret_pb";
import { WorkspaceService } from "@cloudforet/proto/cloudforet/identity/v1/workspace_pb";
import { Channel_ChannelType, ChannelService } from "@cloudforet/proto/cloudforet/notification/v1/channel_pb";
import { Delivery_Status } from "@cloudforet/proto/cloudforet/notification/v1/delivery_pb";
import { NotificationService } from "@cloudforet/proto/cloudforet/notification/v1/notification_pb";
import { notificationModule } from "@cloudforet/notification";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPlatform, type Identity, type TestPlatform } from "../support/platform";
import { notificationTestEnv } from "./support/env";
import { startHttpReceiver, type HttpReceiver } from "./support/receivers";

let platform: TestPlatform;
let hooks: HttpReceiver;
let other: Identity;
let owner: Identity;
let member: Identity;
const a: Record<string, string> = {};
const failure = (promise: Promise<unknown>) => promise.then(() => expect.fail("expected an error"), (err) => decodeError(err));

const channelsAs = (as?: Identity) => platform.client(ChannelService, as);
const notificationsAs = (as?: Identity) => platform.client(NotificationService, as);

beforeAll(async () => {
  hooks = await startHttpReceiver();
  platform = await startTestPlatform({ modules: [notificationModule], env: notificationTestEnv() });
  const workspaces = platform.client(WorkspaceService);
  await workspaces.create({ workspaceId: "ws-1", name: "One" });
  await workspaces.create({ workspaceId: "ws-2", name: "Two" });
  const admin: Client<typeof ChannelService> = channelsAs();
  a.secret = (await platform.client(SecretService).create({ name: "hook-auth", data: { headers: { Authorization: "Bearer a" } }, workspaceId: "ws-1" })).secretId;
  a.domainWide = (await admin.create({ name: "pager", channelType: Channel_ChannelType.WEBHOOK, options: { url: `${hooks.url}/a-domain` } })).channelId;
  a.ws1 = (await admin.create({ name: "ws1-hook", channelType: Channel_ChannelType.WEBHOOK, options: { url: `${hooks.url}/a-ws1` }, workspaceId: "ws-1" })).channelId;
  a.ws2 = (await admin.create({ name: "ws2-hook", channelType: Channel_ChannelType.WEBHOOK, options: { url: `${hooks.url}/a-ws2` }, workspaceId: "ws-2" })).channelId;
  a.notification = (await notificationsAs().send({ title: "Domain A only", message: "secret stuff", channels: ["nothing"] })).notificationId;
  a.ws2Notification = (await notificationsAs().send({ title: "Workspace two", message: "ws-2 business", channels: ["nothing"], workspaceId: "ws-2" })).notificationId;
  other = await platform.createDomainAdmin("domain-b");
  owner = await platform.createWorkspaceUser(platform.admin, "bob", "WORKSPACE_OWNER", "ws-1");
  member = await platform.createWorkspaceUser(platform.admin, "alice", "WORKSPACE_MEMBER", "ws-1");
});

afterAll(async () => {
  await platform?.close();
  await hooks?.close();
});

describe("tenant isolation: another domain sees and touches nothing of this one", () => {
  it("ChannelService: Get, Delete and Test answer NOT_FOUND, List shows none, secrets of this domain do not resolve", async () => {
    const channels = channelsAs(other);
    for (const call of [() => channels.get({ channelId: a.domainWide }), () => channels.delete({ channelId: a.domainWide }), () => channels.test({ channelId: a.domainWide })]) {
      expect(await failure(call())).toMatchObject({ code: "ERROR_NOT_FOUND", grpcCode: Code.NotFound, metadata: { channel_id: a.domainWide } });
    }
    expect((await channels.list({})).totalCount).toBe(0);
    expect(hooks.to("/a-domain")).toHaveLength(0); // Test sent nothing
    const borrowed = await failure(channels.create({ name: "borrowed", channelType: Channel_ChannelType.WEBHOOK, options: { url: `${hooks.url}/b` }, secretId: a.secret }));
    expect(borrowed).toMatchObject({ code: "ERROR_NOT_FOUND", metadata: { secret_id: a.secret } });
    // Names are per domain: the other domain may use the same one.
    expect((await channels.create({ name: "pager", channelType: Channel_ChannelType.WEBHOOK, options: { url: `${hooks.url}/b-domain` } })).domainId).toBe("domain-b");
    expect((await channelsAs().get({ channelId: a.domainWide })).name).toBe("pager");
  });

  it("NotificationService: Get and MarkRead answer NOT_FOUND, List shows none, Send never reaches this domain's channels", async () => {
    const notifications = notificationsAs(other);
    expect(await failure(notifications.get({ notificationId: a.notification }))).toMatchObject({ code: "ERROR_NOT_FOUND", metadata: { notification_id: a.notification } });
    expect(await failure(notifications.markRead({ notificationIds: [a.notification] }))).toMatchObject({ code: "ERROR_NOT_FOUND" });
    expect((await notificationsAs().get({ notificationId: a.notification })).isRead).toBe(false);
    const listed = await notifications.list({});
    expect(listed.results.map((n) => n.notificationId)).not.toContain(a.notification);

    const sent = await notifications.send({ title: "Probe", message: "by id, name and type", channels: [a.domainWide, "ws1-hook", "pager"] });
    await expect
      .poll(async () => (await notifications.get({ notificationId: sent.notificationId })).deliveries.filter((d) => d.status !== Delivery_Status.PENDING).length)
      .toBe(3);
    const got = await notifications.get({ notificationId: sent.notificationId });
    expect(got.deliveries.map((d) => [d.channel, Delivery_Status[d.status]])).toEqual([
      [a.domainWide, "SKIPPED"],
      ["ws1-hook", "SKIPPED"],
      [expect.stringMatching(/^ch-/), "SUCCEEDED"], // its own "pager"
    ]);
    expect(hooks.to("/a-domain")).toHaveLength(0);
    expect(hooks.to("/a-ws1")).toHaveLength(0);
    expect(hooks.to("/b-domain")).toHaveLength(1);
    expect(await failure(notificationsAs().get({ notificationId: sent.notificationId }))).toMatchObject({ code: "ERROR_NOT_FOUND" });
  });
});

describe("workspace isolation: an owner writes in its workspace; a member reads its workspace and the domain-wide rows", () => {
  it("an owner creates in its own workspace by default, never in another", async () => {
    const channels = channelsAs(owner);
    const own = await channels.create({ name: "bob-hook", channelType: Channel_ChannelType.WEBHOOK, options: { url: `${hooks.url}/bob` } });
    expect(own.workspaceId).toBe("ws-1");
    a.bob = own.channelId;
    const elsewhere = await failure(channels.create({ name: "x", channelType: Channel_ChannelType.WEBHOOK, options: { url: `${hooks.url}/x` }, workspaceId: "ws-2" }));
    expect(elsewhere).toMatchObject({ code: "ERROR_PERMISSION_DENIED", grpcCode: Code.PermissionDenied, metadata: { workspace_id: "ws-2" } });
  });

  it("an owner changes its workspace's channels only; domain-wide ones belong to admins", async () => {
    const channels = channelsAs(owner);
    expect(await failure(channels.get({ channelId: a.ws2 }))).toMatchObject({ code: "ERROR_NOT_FOUND" });
    expect(await failure(channels.delete({ channelId: a.ws2 }))).toMatchObject({ code: "ERROR_NOT_FOUND" });
    expect(await failure(channels.delete({ channelId: a.domainWide }))).toMatchObject({ code: "ERROR_PERMISSION_DENIED", metadata: { channel_id: a.domainWide } });
    expect((await channels.test({ channelId: a.ws1 })).status).toBe(Delivery_Status.SUCCEEDED);
  });

  it("an owner sends within its workspace: to its channels and the domain-wide ones, never another workspace's", async () => {
    const notifications = notificationsAs(owner);
    const sent = await notifications.send({ title: "From bob", message: "hi" });
    await expect.poll(async () => (await notifications.get({ notificationId: sent.notificationId })).deliveries.filter((d) => d.status === Delivery_Status.SUCCEEDED).length).toBe(3);
    const got = await notifications.get({ notificationId: sent.notificationId });
    expect(got.workspaceId).toBe("ws-1");
    expect(got.deliveries.map((d) => d.channel).sort()).toEqual([a.domainWide, a.ws1, a.bob].sort());
    expect(hooks.to("/a-ws2")).toHaveLength(0);
    expect(await failure(notifications.send({ title: "t", message: "m", workspaceId: "ws-2" }))).toMatchObject({ code: "ERROR_PERMISSION_DENIED" });
    a.ws1Notification = sent.notificationId;
  });

  it("a member reads its workspace's and the domain-wide channels and notifications, and changes nothing", async () => {
    const channels = channelsAs(member);
    expect((await channels.list({})).results.map((c) => c.name).sort()).toEqual(["bob-hook", "pager", "ws1-hook"]);
    expect((await channels.get({ channelId: a.domainWide })).name).toBe("pager");
    expect(await failure(channels.get({ channelId: a.ws2 }))).toMatchObject({ code: "ERROR_NOT_FOUND" });
    const denied = { code: "ERROR_PERMISSION_DENIED", grpcCode: Code.PermissionDenied };
    expect(await failure(channels.create({ name: "m", channelType: Channel_ChannelType.WEBHOOK, options: { url: `${hooks.url}/m` } }))).toMatchObject(denied);
    expect(await failure(channels.create({ name: "m", channelType: Channel_ChannelType.WEBHOOK, options: { url: `${hooks.url}/m` }, workspaceId: "ws-1" }))).toMatchObject({ ...denied, metadata: { workspace_id: "ws-1" } });
    expect(await failure(channels.delete({ channelId: a.ws1 }))).toMatchObject({ ...denied, metadata: { channel_id: a.ws1, workspace_id: "ws-1" } });
    expect(await failure(channels.test({ channelId: a.ws1 }))).toMatchObject(denied);
    const notifications = notificationsAs(member);
    expect(await failure(notifications.send({ title: "t", message: "m" }))).toMatchObject(denied);
    const ids = (await notifications.list({})).results.map((n) => n.notificationId);
    expect(ids).toEqual(expect.arrayContaining([a.notification, a.ws1Notification])); // domain-wide and its workspace's
    expect(ids).not.toContain(a.ws2Notification);
    expect(await failure(notifications.get({ notificationId: a.ws2Notification }))).toMatchObject({ code: "ERROR_NOT_FOUND" });
    expect(await failure(notifications.markRead({ notificationIds: [a.ws2Notification] }))).toMatchObject({ code: "ERROR_NOT_FOUND" });
    expect(await notifications.markRead({ notificationIds: [a.ws1Notification] })).toMatchObject({ updatedCount: 1 });
  });
});

describe("authentication", () => {
  it("refuses every RPC without a token with UNAUTHENTICATED", async () => {
    const channels = platform.anonymousClient(ChannelService);
    const notifications = platform.anonymousClient(NotificationService);
    const calls = [
      () => channels.create({ name: "x", channelType: Channel_ChannelType.WEBHOOK, options: { url: "http://x" } }),
      () => channels.get({ channelId: a.domainWide }),
      () => channels.list({}),
      () => channels.delete({ channelId: a.domainWide }),
      () => channels.test({ channelId: a.domainWide }),
      () => notifications.send({ title: "t", message: "m" }),
      () => notifications.get({ notificationId: a.notification }),
      () => notifications.list({}),
      () => notifications.markRead({ notificationIds: [a.notification] }),
    ];
    for (const call of calls) {
      expect(await failure(call())).toMatchObject({ code: "ERROR_AUTHENTICATE_FAILURE", grpcCode: Code.Unauthenticated });
    }
  });
});
