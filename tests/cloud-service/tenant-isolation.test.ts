import { Code, type Client } from "@connectrpc/connect";
import { cloudServiceModule } from "@cloudforet/cloud-service";
import { decodeError } from "@cloudforet/errors";
import { CloudServiceService } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_pb";
import { CloudServiceTypeService } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_type_pb";
import { ProjectService } from "@cloudforet/proto/cloudforet/identity/v1/project_pb";
import { WorkspaceService } from "@cloudforet/proto/cloudforet/identity/v1/workspace_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPlatform, type Identity, type TestPlatform } from "../support/platform";

let platform: TestPlatform;
let domainA: Identity;
let domainB: Identity;
let ownerA1: Identity;
let memberA1: Identity;
let ownerA2: Identity;
let resourceA1: string;
let typeB: string;
const failure = (promise: Promise<unknown>) => promise.then(() => expect.fail("expected an error"), (err) => decodeError(err));
const text = (value: string) => ({ kind: { case: "stringValue" as const, value } });
const resources = (as: Identity) => platform.client(CloudServiceService, as);
const types = (as: Identity) => platform.client(CloudServiceTypeService, as);

const vm = (resourceId: string, extra: Record<string, unknown> = {}) => ({
  cloudServiceType: "compute.Instance",
  cloudServiceName: resourceId,
  provider: "nutanix",
  data: { state: "ON", cpu_cores: 4 },
  reference: { resourceId },
  ...extra,
});

beforeAll(async () => {
  platform = await startTestPlatform({ modules: [cloudServiceModule], env: { IDENTITY_SECRET_KEYS: process.env.IDENTITY_SECRET_KEYS ?? "test:BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=" } });
  domainA = platform.admin;
  domainB = await platform.createDomainAdmin("domain-b");
  ownerA1 = await platform.createWorkspaceUser(domainA, "owner-a1", "WORKSPACE_OWNER", "ws-a1");
  memberA1 = await platform.createWorkspaceUser(domainA, "member-a1", "WORKSPACE_MEMBER", "ws-a1");
  ownerA2 = await platform.createWorkspaceUser(domainA, "owner-a2", "WORKSPACE_OWNER", "ws-a2");
  await platform.client(ProjectService, domainA).create({ projectId: "project-a1", name: "A1", workspaceId: "ws-a1" });
  await platform.client(WorkspaceService, domainB).create({ workspaceId: "ws-b", name: "B" });
  resourceA1 = (await resources(ownerA1).create(vm("vm-shared", { tags: { env: "prod" } }))).cloudServiceId;
  typeB = (await types(domainB).create({ key: "storage.Bucket", provider: "nutanix" })).cloudServiceTypeId;
}, 60_000);

afterAll(async () => {
  await platform?.close();
});

describe("CloudServiceService keeps domains apart", () => {
  it("another domain cannot Get, Update or Delete a resource, nor see it in List or Stat", async () => {
    const b = resources(domainB);
    expect(await failure(b.get({ cloudServiceId: resourceA1 }))).toMatchObject({ code: "ERROR_NOT_FOUND" });
    expect(await failure(b.update({ cloudServiceId: resourceA1, name: "stolen" }))).toMatchObject({ code: "ERROR_NOT_FOUND" });
    expect(await failure(b.delete({ cloudServiceId: resourceA1 }))).toMatchObject({ code: "ERROR_NOT_FOUND" });
    expect((await b.list({})).totalCount).toBe(0);
    expect((await b.stat({ query: { aggregate: [{ group: { keys: ["provider"] }, statistics: { count: {} } }] } })).results).toEqual([]);
    const a = await resources(domainA).get({ cloudServiceId: resourceA1 });
    expect(a).toMatchObject({ name: "vm-shared", state: "ON", domainId: "domain-default" });
  });

  it("the same resource key in another domain is another resource (Create, Upsert, BatchUpsert)", async () => {
    const b = resources(domainB);
    const created = await b.create(vm("vm-shared", { projectId: "" }));
    expect(created.cloudServiceId).not.toBe(resourceA1);
    const upserted = await b.upsert(vm("vm-shared", { data: { state: "OFF" } }));
    expect(upserted).toMatchObject({ created: false, cloudServiceId: created.cloudServiceId, domainId: "domain-b" });
    const batch = await b.batchUpsert((async function* () {
      yield { items: [vm("vm-shared"), vm("vm-b-only")] };
    })());
    expect(batch).toMatchObject({ createdCount: 1, updatedCount: 1, failedCount: 0 });
    expect((await resources(domainA).get({ cloudServiceId: resourceA1 })).state).toBe("ON");
    expect((await resources(domainA).list({})).totalCount).toBe(1);
    // A project of another domain does not exist for this one.
    expect(await failure(b.create(vm("vm-p", { projectId: "project-a1" })))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "project_id" } });
  });

  it("types registered by one domain are invisible and unusable in another", async () => {
    expect(await failure(types(domainA).get({ cloudServiceTypeId: typeB }))).toMatchObject({ code: "ERROR_NOT_FOUND" });
    expect(await failure(types(domainA).delete({ cloudServiceTypeId: typeB }))).toMatchObject({ code: "ERROR_NOT_FOUND" });
    expect((await types(domainA).list({ query: { filter: [{ k: "key", v: text("storage.Bucket") }] } })).totalCount).toBe(0);
    expect((await types(domainB).list({ query: { filter: [{ k: "key", v: text("storage.Bucket") }] } })).totalCount).toBe(1);
    expect(await failure(resources(domainA).create(vm("vm-bucket", { cloudServiceType: "storage.Bucket" })))).toMatchObject({ metadata: { parameter: "cloud_service_type", value: "storage.Bucket" } });
    expect((await resources(domainB).create(vm("vm-bucket", { cloudServiceType: "storage.Bucket" }))).cloudServiceType).toBe("storage.Bucket");
    // Both see the built-ins.
    expect((await types(domainB).get({ key: "compute.Instance" })).isBuiltin).toBe(true);
  });
});

describe("CloudServiceService keeps workspaces apart", () => {
  it("a workspace owner writes into its workspace; its resources are invisible to other workspaces", async () => {
    const own = await resources(ownerA1).get({ cloudServiceId: resourceA1 });
    expect(own.workspaceId).toBe("ws-a1");
    expect(await failure(resources(ownerA2).get({ cloudServiceId: resourceA1 }))).toMatchObject({ code: "ERROR_NOT_FOUND" });
    expect(await failure(resources(ownerA2).update({ cloudServiceId: resourceA1, name: "x" }))).toMatchObject({ code: "ERROR_NOT_FOUND" });
    expect((await resources(ownerA2).list({})).totalCount).toBe(0);
    expect((await resources(ownerA1).list({})).totalCount).toBe(1);
    expect((await resources(domainA).list({})).totalCount).toBe(1);
    expect(await failure(resources(ownerA2).create(vm("vm-x", { projectId: "project-a1" })))).toMatchObject({ code: "ERROR_INVALID_PARAMETER" });
    expect(await failure(resources(ownerA2).upsert({ ...vm("vm-y"), workspaceId: "ws-a1" }))).toMatchObject({ code: "ERROR_PERMISSION_DENIED" });
    // Upserting A1's resource from A2 finds it, but may not write it.
    expect(await failure(resources(ownerA2).upsert({ ...vm("vm-shared"), workspaceId: "ws-a2" }))).toMatchObject({ code: "ERROR_PERMISSION_DENIED" });
  });

  it("a workspace member reads but does not write", async () => {
    expect((await resources(memberA1).get({ cloudServiceId: resourceA1 })).name).toBe("vm-shared");
    expect((await resources(memberA1).stat({ query: { aggregate: [{ group: { keys: ["state"] }, statistics: { count: {} } }] } })).results).toEqual([{ state: "ON", count: 1 }]);
    expect(await failure(resources(memberA1).update({ cloudServiceId: resourceA1, name: "x" }))).toMatchObject({ code: "ERROR_PERMISSION_DENIED", grpcCode: Code.PermissionDenied });
    expect(await failure(resources(memberA1).delete({ cloudServiceId: resourceA1 }))).toMatchObject({ code: "ERROR_PERMISSION_DENIED" });
    expect(await failure(resources(memberA1).create(vm("vm-m")))).toMatchObject({ code: "ERROR_PERMISSION_DENIED" });
    const batch = await resources(memberA1).batchUpsert((async function* () {
      yield { items: [vm("vm-m1")] };
    })());
    expect(batch).toMatchObject({ createdCount: 0, failedCount: 1, errors: [expect.objectContaining({ errorCode: "ERROR_PERMISSION_DENIED" })] });
    expect(await failure(types(ownerA1).create({ key: "net.Router" }))).toMatchObject({ code: "ERROR_PERMISSION_DENIED" });
  });

  it("refuses every RPC without a token", async () => {
    const anonymous = platform.anonymousClient(CloudServiceService);
    const calls: (() => Promise<unknown>)[] = [
      () => anonymous.create(vm("vm-anon")),
      () => anonymous.get({ cloudServiceId: resourceA1 }),
      () => anonymous.update({ cloudServiceId: resourceA1 }),
      () => anonymous.upsert(vm("vm-anon")),
      () =>
        anonymous.batchUpsert((async function* () {
          yield { items: [vm("vm-anon")] };
        })()),
      () => anonymous.delete({ cloudServiceId: resourceA1 }),
      () => anonymous.list({}),
      () => anonymous.stat({}),
      () => platform.anonymousClient(CloudServiceTypeService).list({}),
    ];
    for (const call of calls) expect(await failure(call())).toMatchObject({ code: "ERROR_AUTHENTICATE_FAILURE", grpcCode: Code.Unauthenticated });
  });
});
