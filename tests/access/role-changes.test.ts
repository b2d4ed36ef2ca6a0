// A role binding removed or added in identity reaches every service's token check within a second,
// for tokens issued before the change (password and API-key logins alike), over real NATS.
import { Code, ConnectError } from "@connectrpc/connect";
import { cloudServiceModule } from "@cloudforet/cloud-service";
import { costModule } from "@cloudforet/cost";
import { notificationModule } from "@cloudforet/notification";
import { orchestrationModule } from "@cloudforet/orchestration";
import { CloudServiceService } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_pb";
import { DataSourceService } from "@cloudforet/proto/cloudforet/cost/v1/data_source_pb";
import { ApiKeyService } from "@cloudforet/proto/cloudforet/identity/v1/api_key_pb";
import { ProjectService } from "@cloudforet/proto/cloudforet/identity/v1/project_pb";
import { RoleBinding_Role, UserService } from "@cloudforet/proto/cloudforet/identity/v1/user_pb";
import { WorkspaceService } from "@cloudforet/proto/cloudforet/identity/v1/workspace_pb";
import { Channel_ChannelType, ChannelService } from "@cloudforet/proto/cloudforet/notification/v1/channel_pb";
import { SequenceService } from "@cloudforet/proto/cloudforet/orchestration/v1/sequence_pb";
import { testNatsUrl, uniqueSuffix } from "@cloudforet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_PASSWORD, startTestPlatform, type Identity, type TestPlatform } from "../support/platform";

type Outcome = "allowed" | "denied";

let platform: TestPlatform;
// Ids unique to this run: every service follows the shared stream's identity events from its start.
const suffix = uniqueSuffix();
const workspaceId = `ws-rc-${suffix}`;
const userId = `admin-rc-${suffix}`;
let projectId: string;
let counter = 0;
const unique = (prefix: string) => `${prefix}-${suffix}-${++counter}`;

beforeAll(async () => {
  platform = await startTestPlatform({ modules: [costModule, notificationModule, cloudServiceModule, orchestrationModule], env: { NATS_URL: testNatsUrl() } });
  await platform.client(WorkspaceService).create({ workspaceId, name: workspaceId });
  projectId = (await platform.client(ProjectService).create({ projectId: unique("project"), name: "p", workspaceId })).projectId;
}, 120_000);

afterAll(async () => {
  await platform?.close();
});

/** A domain admin that is also a member of the workspace, so without the admin role it may read but not write there. */
async function adminAndMember(id: string): Promise<Identity> {
  await platform.client(UserService).create({
    userId: id,
    password: ADMIN_PASSWORD,
    name: id,
    roleBindings: [{ role: RoleBinding_Role.DOMAIN_ADMIN }, { role: RoleBinding_Role.WORKSPACE_MEMBER, workspaceId }],
  });
  return platform.login("domain-default", id, ADMIN_PASSWORD);
}

async function newResource(): Promise<string> {
  const name = unique("vm");
  const created = await platform.client(CloudServiceService).create({
    cloudServiceType: "compute.Instance",
    cloudServiceName: name,
    provider: "nutanix",
    data: {},
    reference: { resourceId: name },
    projectId,
  });
  return created.cloudServiceId;
}

/** The four writes of the finding, as `who`; the resource to delete is made beforehand, so polls stay cheap. */
async function writesOf(who: Identity) {
  const resource = await newResource();
  return {
    createDataSource: () => platform.client(DataSourceService, who).create({ dataSourceId: unique("ds"), name: "d", provider: "nutanix" }),
    createChannel: () =>
      platform.client(ChannelService, who).create({ name: unique("hook"), channelType: Channel_ChannelType.WEBHOOK, options: { url: "http://127.0.0.1:9/hook" }, workspaceId }),
    deleteResource: () => platform.client(CloudServiceService, who).delete({ cloudServiceId: resource }),
    createSequence: () => platform.client(SequenceService, who).create({ namespace: "default", name: unique("seq"), blocks: [{ type: "step", id: "s", handler: "noop" }] }),
  };
}

type Write = "createDataSource" | "createChannel" | "deleteResource" | "createSequence";

async function outcome(call: Promise<unknown>): Promise<Outcome> {
  return call.then(
    () => "allowed" as const,
    (err) => {
      if (ConnectError.from(err).code === Code.PermissionDenied) return "denied" as const;
      throw err; // UNAUTHENTICATED or anything else is a failure, not a verdict: the old token must keep working
    },
  );
}

/** Polls `call` until it gives `wanted` or one second has passed since `since`. */
async function within1s(since: number, call: () => Promise<unknown>, wanted: Outcome): Promise<Outcome> {
  let last: Outcome;
  do {
    last = await outcome(call());
    if (last === wanted) return last;
    await new Promise((r) => setTimeout(r, 25));
  } while (Date.now() - since < 1_000);
  return last;
}

/** Every write as `who` gives its expected outcome, each polled on its own, within a second of starting `change`. */
async function expectEverywhere(who: Identity, expected: Record<Write, Outcome>, change?: () => Promise<unknown>): Promise<void> {
  const writes = await writesOf(who);
  const since = Date.now();
  await change?.();
  const seen = Object.fromEntries(
    await Promise.all((Object.keys(expected) as Write[]).map(async (name) => [name, await within1s(since, writes[name], expected[name])] as const)),
  );
  expect(seen).toEqual(expected);
}

describe("role changes reach every service", () => {
  it("an old token loses DOMAIN_ADMIN within a second of RemoveRoleBinding, and gains WORKSPACE_OWNER likewise", async () => {
    const old = await adminAndMember(userId);
    await expectEverywhere(old, { createDataSource: "allowed", createChannel: "allowed", deleteResource: "allowed", createSequence: "allowed" });

    await expectEverywhere(old, { createDataSource: "denied", createChannel: "denied", deleteResource: "denied", createSequence: "denied" }, () =>
      platform.client(UserService).removeRoleBinding({ userId, role: RoleBinding_Role.DOMAIN_ADMIN }),
    );
    // An owner writes in its workspace; data sources stay the domain admins'.
    await expectEverywhere(old, { createDataSource: "denied", createChannel: "allowed", deleteResource: "allowed", createSequence: "allowed" }, () =>
      platform.client(UserService).addRoleBinding({ userId, role: RoleBinding_Role.WORKSPACE_OWNER, workspaceId }),
    );
  });

  it("an API-key token of the user follows the user's role change", async () => {
    const id = `apikey-rc-${suffix}`;
    await adminAndMember(id);
    const { apiKey } = await platform.client(ApiKeyService).create({ userId: id, name: unique("key") });
    const viaKey = await platform.login("domain-default", id, apiKey);
    await expectEverywhere(viaKey, { createDataSource: "allowed", createChannel: "allowed", deleteResource: "allowed", createSequence: "allowed" });

    await expectEverywhere(viaKey, { createDataSource: "denied", createChannel: "denied", deleteResource: "denied", createSequence: "denied" }, () =>
      platform.client(UserService).removeRoleBinding({ userId: id, role: RoleBinding_Role.DOMAIN_ADMIN }),
    );
  });

  it("deleting a workspace takes its membership from earlier tokens", async () => {
    const ws = unique("ws-gone");
    await platform.client(WorkspaceService).create({ workspaceId: ws, name: ws });
    const id = `owner-rc-${suffix}`;
    await platform.client(UserService).create({ userId: id, password: ADMIN_PASSWORD, name: id, roleBindings: [{ role: RoleBinding_Role.WORKSPACE_OWNER, workspaceId: ws }] });
    const old = await platform.login("domain-default", id, ADMIN_PASSWORD);
    const createChannel = () =>
      platform.client(ChannelService, old).create({ name: unique("hook"), channelType: Channel_ChannelType.WEBHOOK, options: { url: "http://127.0.0.1:9/hook" } });
    expect(await outcome(createChannel())).toBe("allowed"); // its one writable workspace is the default

    const since = Date.now();
    await platform.client(WorkspaceService).delete({ workspaceId: ws });
    expect(await within1s(since, createChannel, "denied")).toBe("denied");
  });
});
