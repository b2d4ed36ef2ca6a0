import { Code, type Client } from "@connectrpc/connect";
import { decodeError } from "@cloudforet/errors";
import { CollectorService } from "@cloudforet/proto/cloudforet/inventory/v1/collector_pb";
import { JobService } from "@cloudforet/proto/cloudforet/inventory/v1/job_pb";
import { JobTask_Status, JobTaskService } from "@cloudforet/proto/cloudforet/inventory/v1/job_task_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Identity, TestPlatform } from "../support/platform";
import { createNutanixAccounts, startInventoryPlatform } from "./inventory-platform";

let platform: TestPlatform;
let domainA: Identity;
let domainB: Identity;
let ownerA: Identity;
let memberA: Identity;
let ownerOther: Identity;
let jobA: string;
let taskA: string;
const failure = (promise: Promise<unknown>) => promise.then(() => expect.fail("expected an error"), (err) => decodeError(err));
const collectors = (as: Identity): Client<typeof CollectorService> => platform.client(CollectorService, as);
const jobs = (as: Identity): Client<typeof JobService> => platform.client(JobService, as);
const tasks = (as: Identity): Client<typeof JobTaskService> => platform.client(JobTaskService, as);
const watchAll = async (as: Identity, jobId: string) => {
  for await (const _ of jobs(as).watch({ jobId })) void _;
};

beforeAll(async () => {
  platform = await startInventoryPlatform();
  domainA = platform.admin;
  domainB = await platform.createDomainAdmin("domain-b");
  await createNutanixAccounts(platform, domainA, "ws-a", ["sa-a-01", "sa-a-02"]);
  await createNutanixAccounts(platform, domainB, "ws-b", ["sa-b-01"]);
  ownerA = await platform.createWorkspaceUser(domainA, "owner-a", "WORKSPACE_OWNER", "ws-a");
  memberA = await platform.createWorkspaceUser(domainA, "member-a", "WORKSPACE_MEMBER", "ws-a");
  ownerOther = await platform.createWorkspaceUser(domainA, "owner-other", "WORKSPACE_OWNER", "ws-other");
  await collectors(ownerA).create({ collectorId: "collector-nutanix-001", name: "A", provider: "nutanix" });
  jobA = (await jobs(ownerA).create({ collectorId: "collector-nutanix-001", serviceAccountIds: ["sa-a-01", "sa-a-02"] })).jobId;
  taskA = (await tasks(ownerA).create({ jobId: jobA, serviceAccountId: "sa-a-01", secretId: "secret-a" })).jobTaskId;
}, 60_000);

afterAll(async () => {
  await platform?.close();
});

/** Every read and write of A's collector, job and task, as `who`; each must fail with `code`. */
async function expectAllRefused(who: Identity, code: string, reads = true) {
  const refusals: [string, () => Promise<unknown>][] = [
    ["CollectorService.Update", () => collectors(who).update({ collectorId: "collector-nutanix-001", name: "x" })],
    ["CollectorService.Delete", () => collectors(who).delete({ collectorId: "collector-nutanix-001" })],
    ["CollectorService.Verify", () => collectors(who).verify({ collectorId: "collector-nutanix-001" })],
    ["CollectorService.Collect", () => collectors(who).collect({ collectorId: "collector-nutanix-001" })],
    ["JobService.Create", () => jobs(who).create({ collectorId: "collector-nutanix-001", serviceAccountIds: ["sa-a-01"] })],
    ["JobService.Cancel", () => jobs(who).cancel({ jobId: jobA })],
    ["JobTaskService.Create", () => tasks(who).create({ jobId: jobA, serviceAccountId: "sa-a-02" })],
    ["JobTaskService.UpdateProgress", () => tasks(who).updateProgress({ jobTaskId: taskA, status: JobTask_Status.IN_PROGRESS, progress: 5 })],
    ["JobTaskService.Complete", () => tasks(who).complete({ jobTaskId: taskA, status: JobTask_Status.FINISHED })],
  ];
  if (reads) {
    refusals.push(
      ["CollectorService.Get", () => collectors(who).get({ collectorId: "collector-nutanix-001" })],
      ["JobService.Get", () => jobs(who).get({ jobId: jobA })],
      ["JobService.Watch", () => watchAll(who, jobA)],
      ["JobTaskService.Get", () => tasks(who).get({ jobTaskId: taskA })],
    );
  }
  for (const [rpc, call] of refusals) {
    const error = await failure(call());
    expect({ rpc, code: error.code }).toEqual({ rpc, code });
  }
}

describe("inventory keeps domains apart", () => {
  it("another domain's admin sees nothing of A and can change nothing", async () => {
    await expectAllRefused(domainB, "ERROR_NOT_FOUND");
    expect((await collectors(domainB).list({})).totalCount).toBe(0);
    expect((await jobs(domainB).list({})).totalCount).toBe(0);
    expect((await tasks(domainB).list({})).totalCount).toBe(0);
    // Nothing changed for A.
    expect(await jobs(domainA).get({ jobId: jobA })).toMatchObject({ status: 0, totalTaskCount: 2 });
    expect((await tasks(domainA).get({ jobTaskId: taskA })).progress).toBe(0);
  });

  it("ids are per domain: B has its own collector-nutanix-001, and cannot use A's service accounts", async () => {
    await collectors(domainB).create({ collectorId: "collector-nutanix-001", name: "B", provider: "nutanix", workspaceId: "ws-b" });
    expect(await failure(jobs(domainB).create({ collectorId: "collector-nutanix-001", serviceAccountIds: ["sa-a-01"] }))).toMatchObject({
      code: "ERROR_INVALID_PARAMETER",
      metadata: { parameter: "service_account_ids", service_account_id: "sa-a-01" },
    });
    const own = await jobs(domainB).create({ collectorId: "collector-nutanix-001", serviceAccountIds: ["sa-b-01"] });
    expect(own.totalTaskCount).toBe(1);
    expect((await collectors(domainA).get({ collectorId: "collector-nutanix-001" })).name).toBe("A");
    expect((await jobs(domainA).list({})).totalCount).toBe(1);
    expect(await failure(collectors(domainB).create({ collectorId: "collector-x", name: "x", provider: "nutanix", workspaceId: "ws-a" }))).toMatchObject({
      code: "ERROR_INVALID_PARAMETER",
      metadata: { parameter: "workspace_id" },
    });
  });
});

describe("inventory keeps workspaces apart", () => {
  it("a user of another workspace sees nothing of ws-a", async () => {
    await expectAllRefused(ownerOther, "ERROR_NOT_FOUND");
    expect((await collectors(ownerOther).list({})).totalCount).toBe(0);
    expect((await jobs(ownerOther).list({})).totalCount).toBe(0);
    expect(await failure(collectors(ownerOther).create({ name: "x", provider: "nutanix", workspaceId: "ws-a" }))).toMatchObject({ code: "ERROR_PERMISSION_DENIED" });
  });

  it("a workspace member reads but does not write", async () => {
    expect((await collectors(memberA).get({ collectorId: "collector-nutanix-001" })).workspaceId).toBe("ws-a");
    expect((await jobs(memberA).get({ jobId: jobA })).jobId).toBe(jobA);
    expect((await tasks(memberA).list({})).totalCount).toBe(1);
    await expectAllRefused(memberA, "ERROR_PERMISSION_DENIED", false);
  });

  it("the workspace's owner does all of it", async () => {
    await tasks(ownerA).updateProgress({ jobTaskId: taskA, status: JobTask_Status.IN_PROGRESS, progress: 50 });
    expect((await jobs(ownerA).cancel({ jobId: jobA })).status).toBe(4);
  });

  it("refuses every RPC without a token", async () => {
    const anonymous = {
      collectors: platform.anonymousClient(CollectorService),
      jobs: platform.anonymousClient(JobService),
      tasks: platform.anonymousClient(JobTaskService),
    };
    const calls: (() => Promise<unknown>)[] = [
      () => anonymous.collectors.create({ name: "x", provider: "nutanix" }),
      () => anonymous.collectors.get({ collectorId: "collector-nutanix-001" }),
      () => anonymous.collectors.list({}),
      () => anonymous.collectors.update({ collectorId: "collector-nutanix-001" }),
      () => anonymous.collectors.delete({ collectorId: "collector-nutanix-001" }),
      () => anonymous.collectors.verify({ collectorId: "collector-nutanix-001" }),
      () => anonymous.collectors.collect({ collectorId: "collector-nutanix-001" }),
      () => anonymous.jobs.create({ collectorId: "collector-nutanix-001" }),
      () => anonymous.jobs.get({ jobId: jobA }),
      () => anonymous.jobs.list({}),
      () => anonymous.jobs.cancel({ jobId: jobA }),
      async () => {
        for await (const _ of anonymous.jobs.watch({ jobId: jobA })) void _;
      },
      () => anonymous.tasks.create({ jobId: jobA }),
      () => anonymous.tasks.updateProgress({ jobTaskId: taskA }),
      () => anonymous.tasks.complete({ jobTaskId: taskA }),
      () => anonymous.tasks.get({ jobTaskId: taskA }),
      () => anonymous.tasks.list({}),
    ];
    for (const call of calls) expect(await failure(call())).toMatchObject({ code: "ERROR_AUTHENTICATE_FAILURE", grpcCode: Code.Unauthenticated });
  });
});
