import type { Client } from "@connectrpc/connect";
import { decodeError } from "@cloudforet/errors";
import { CloudServiceService } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_pb";
import { SecretService } from "@cloudforet/proto/cloudforet/identity/v1/secret_pb";
import { ServiceAccountService } from "@cloudforet/proto/cloudforet/identity/v1/service_account_pb";
import { CollectorService } from "@cloudforet/proto/cloudforet/inventory/v1/collector_pb";
import { Job_Status, JobService, JobServiceWatchResponse_Kind, type Job } from "@cloudforet/proto/cloudforet/inventory/v1/job_pb";
import { JobTask_Status, JobTaskService, type JobTask } from "@cloudforet/proto/cloudforet/inventory/v1/job_task_pb";
import { servePlugin, type ServedPlugin } from "@cloudforet/plugin-sdk";
import type { JsonObject } from "@bufbuild/protobuf";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestPlatform } from "../support/platform";
import { createNutanixAccounts, startInventoryPlatform } from "./inventory-platform";
import { testPlugin } from "./test-plugin";

let platform: TestPlatform;
let plugin: ServedPlugin;
let collectors: Client<typeof CollectorService>;
let jobs: Client<typeof JobService>;
let tasks: Client<typeof JobTaskService>;
let resources: Client<typeof CloudServiceService>;
const failure = (promise: Promise<unknown>) => promise.then(() => expect.fail("expected an error"), (err) => decodeError(err));
const text = (value: string) => ({ kind: { case: "stringValue" as const, value } });

beforeAll(async () => {
  plugin = await servePlugin(testPlugin, { host: "127.0.0.1", port: 0 });
  platform = await startInventoryPlatform();
  collectors = platform.client(CollectorService);
  jobs = platform.client(JobService);
  tasks = platform.client(JobTaskService);
  resources = platform.client(CloudServiceService);
  await createNutanixAccounts(platform, platform.admin, "ws-pull", ["sa-pull-01", "sa-err-01", "sa-fail-01", "sa-sweep-01", "sa-cancel-01"]);
}, 120_000);

afterAll(async () => {
  await platform?.close();
  await plugin?.close();
});

async function collector(collectorId: string, options: JsonObject) {
  return collectors.create({ collectorId, name: collectorId, provider: "nutanix", workspaceId: "ws-pull", pluginInfo: { endpoint: plugin.url, options } });
}

/** Runs Collect and follows the job with Watch to its end; returns the final job, its task and every task progress seen. */
async function collect(collectorId: string, serviceAccountIds: string[], options: JsonObject = {}) {
  const started = await collectors.collect({ collectorId, serviceAccountIds, options });
  expect(started.status).toBe(Job_Status.CREATED);
  const progress: number[] = [];
  let job: Job | undefined;
  for await (const message of jobs.watch({ jobId: started.jobId })) {
    if (message.kind === JobServiceWatchResponse_Kind.TASK_UPDATED && message.task) progress.push(message.task.progress);
    job = message.job;
  }
  const [task] = (await tasks.list({ query: { filter: [{ k: "job_id", v: text(started.jobId) }] } })).results as JobTask[];
  return { job: job!, task, progress };
}

const countOf = async (filter: { k: string; v: unknown }[]) => (await resources.list({ query: { filter, countOnly: true } as never })).totalCount;

describe("Verify", () => {
  it("calls the plugin's Init (storing its metadata) and Verify with the account's secret", async () => {
    await collector("collector-pull", { count: 10_000 });
    const verified = await collectors.verify({ collectorId: "collector-pull", serviceAccountId: "sa-pull-01" });
    expect(verified).toMatchObject({ success: true, message: "", metadata: { supported_providers: ["nutanix"], version: "1.0.0" } });
    expect((await collectors.get({ collectorId: "collector-pull" })).pluginInfo?.metadata).toMatchObject({ version: "1.0.0" });
    const secret = await platform.client(SecretService).create({ name: "wrong-creds", workspaceId: "ws-pull", data: { nutanix_password: "nope" } });
    await platform.client(ServiceAccountService).create({ serviceAccountId: "sa-wrong-creds", name: "wrong", provider: "nutanix", workspaceId: "ws-pull", secretId: secret.secretId });
    const rejected = await collectors.verify({ collectorId: "collector-pull", serviceAccountId: "sa-wrong-creds" });
    expect(rejected).toMatchObject({ success: false, message: "ERROR_AUTHENTICATE_FAILURE: Invalid Prism credentials" });
    expect(await failure(collectors.verify({ collectorId: "collector-pull", serviceAccountId: "sa-missing" }))).toMatchObject({ code: "ERROR_NOT_FOUND" });
    await collectors.create({ collectorId: "collector-down", name: "down", provider: "nutanix", workspaceId: "ws-pull", pluginInfo: { endpoint: "http://127.0.0.1:1" } });
    expect(await failure(collectors.verify({ collectorId: "collector-down" }))).toMatchObject({ code: "ERROR_SERVICE_UNAVAILABLE" });
  });
});

describe("pull collection of 10,000 resources", () => {
  it("collects every resource exactly once, reporting monotonic progress", async () => {
    const { job, task, progress } = await collect("collector-pull", ["sa-pull-01"]);
    expect(job).toMatchObject({ status: Job_Status.FINISHED, createdCount: 10_000, updatedCount: 0, errorCount: 0, succeededTaskCount: 1, progress: 100 });
    expect(task).toMatchObject({ status: JobTask_Status.FINISHED, createdCount: 10_000, updatedCount: 0, errorCount: 0, progress: 100, serviceAccountId: "sa-pull-01" });
    expect(progress.length).toBeGreaterThan(10);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress.at(-1)).toBe(100);
    expect(await countOf([{ k: "collector_id", v: text("collector-pull") }])).toBe(10_000);
    const [one] = (await resources.list({ query: { filter: [{ k: "reference.resource_id", v: text("vm-sa-pull-01-42") }] } })).results;
    expect(one).toMatchObject({ name: "web-42", account: "sa-pull-01", provider: "nutanix", workspaceId: "ws-pull", collectorId: "collector-pull", jobTaskId: task.jobTaskId, state: "ON" });
    expect(one.lastCollectedAt).toBeDefined();
  }, 120_000);

  it("a second collection updates the same resources instead of duplicating them", async () => {
    await collectors.update({ collectorId: "collector-pull", pluginInfo: { endpoint: plugin.url, options: { count: 10_000, generation: 2 } } });
    const { job, task, progress } = await collect("collector-pull", ["sa-pull-01"]);
    expect(job).toMatchObject({ status: Job_Status.FINISHED, createdCount: 0, updatedCount: 10_000, errorCount: 0 });
    expect(task.updatedCount).toBe(10_000);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(await countOf([{ k: "collector_id", v: text("collector-pull") }])).toBe(10_000);
    expect(await countOf([{ k: "data.generation", v: { kind: { case: "numberValue" as const, value: 2 } } }])).toBe(10_000);
  }, 120_000);
});

describe("pull collection failures", () => {
  it("records per-item errors on the task and still finishes", async () => {
    await collector("collector-errors", { count: 100, bad: [3, 4], invalid: [7] });
    const { job, task } = await collect("collector-errors", ["sa-err-01"]);
    expect(job).toMatchObject({ status: Job_Status.FINISHED, createdCount: 97, errorCount: 3 });
    expect(task.errors).toHaveLength(3);
    expect(task.errors.join("\n")).toContain("vm-sa-err-01-3: permission denied reading VM");
    expect(task.errors.join("\n")).toContain("Unknown cloud service type");
  }, 60_000);

  it("JobService.Create on a plugin-backed collector pulls as Collect does", async () => {
    const created = await jobs.create({ collectorId: "collector-errors", name: "seed-style job", serviceAccountIds: ["sa-err-01"], options: { batch_size: 10 } });
    let last: Job | undefined;
    for await (const message of jobs.watch({ jobId: created.jobId })) last = message.job;
    expect(last).toMatchObject({ status: Job_Status.FINISHED, name: "seed-style job", createdCount: 0, updatedCount: 97, errorCount: 3 });
  }, 60_000);

  it("a plugin that fails halfway leaves the task FAILURE with its error, keeping what it yielded", async () => {
    await collector("collector-fail", { count: 10_000, fail_after: 5_000 });
    const { job, task } = await collect("collector-fail", ["sa-fail-01"]);
    expect(job).toMatchObject({ status: Job_Status.FAILURE, failedTaskCount: 1, createdCount: 5_000 });
    expect(task).toMatchObject({ status: JobTask_Status.FAILURE, createdCount: 5_000 });
    expect(task.errors.at(-1)).toBe("ERROR_SERVICE_UNAVAILABLE: Nutanix Prism API unreachable");
    expect(await countOf([{ k: "collector_id", v: text("collector-fail") }])).toBe(5_000);
  }, 120_000);

  it("Cancel stops a running pull", async () => {
    await collector("collector-cancel", { count: 100_000, delay_every: 100, delay_ms: 20 });
    const started = await collectors.collect({ collectorId: "collector-cancel", serviceAccountIds: ["sa-cancel-01"] });
    await expect.poll(async () => (await jobs.get({ jobId: started.jobId })).status).toBe(Job_Status.IN_PROGRESS);
    const canceled = await jobs.cancel({ jobId: started.jobId });
    expect(canceled.status).toBe(Job_Status.CANCELED);
    const [task] = (await tasks.list({ query: { filter: [{ k: "job_id", v: text(started.jobId) }] } })).results;
    expect(task.status).toBe(JobTask_Status.CANCELED);
    const settled = await countOf([{ k: "collector_id", v: text("collector-cancel") }]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await countOf([{ k: "collector_id", v: text("collector-cancel") }])).toBeLessThanOrEqual(settled + 500);
    expect(settled).toBeLessThan(100_000);
  }, 60_000);
});

describe("resources a collection no longer sees", () => {
  it("turn DISCONNECTED, are DELETED after 3 misses, and come back when seen again", async () => {
    await collector("collector-sweep", { count: 20 });
    const vm0 = text("vm-sa-sweep-01-0");
    const state = async () => (await resources.list({ query: { filter: [{ k: "reference.resource_id", v: vm0 }, { k: "state", o: "exists", v: { kind: { case: "boolValue" as const, value: true } } }] } })).results[0]?.state;
    expect((await collect("collector-sweep", ["sa-sweep-01"])).job.createdCount).toBe(20);
    await collectors.update({ collectorId: "collector-sweep", pluginInfo: { endpoint: plugin.url, options: { count: 20, skip: [0, 1] } } });
    const first = await collect("collector-sweep", ["sa-sweep-01"]);
    await expect.poll(state).toBe("DISCONNECTED");
    await expect.poll(async () => (await tasks.get({ jobTaskId: first.task.jobTaskId })).disconnectedCount).toBe(2);
    await collect("collector-sweep", ["sa-sweep-01"]);
    await expect.poll(async () => (await tasks.list({ query: { filter: [{ k: "collector_id", v: text("collector-sweep") }, { k: "disconnected_count", v: { kind: { case: "numberValue" as const, value: 2 } } }] } })).totalCount).toBe(2);
    expect(await state()).toBe("DISCONNECTED");
    const third = await collect("collector-sweep", ["sa-sweep-01"]);
    await expect.poll(state).toBe("DELETED");
    await expect.poll(async () => (await tasks.get({ jobTaskId: third.task.jobTaskId })).deletedCount).toBe(2);
    await expect.poll(async () => (await jobs.get({ jobId: third.task.jobId })).deletedCount).toBe(2);
    expect(await countOf([{ k: "collector_id", v: text("collector-sweep") }])).toBe(18);
    const [gone] = (await resources.list({ query: { filter: [{ k: "reference.resource_id", v: vm0 }, { k: "state", v: text("DELETED") }] } })).results;
    expect(gone.deletedAt).toBeDefined();
    await collectors.update({ collectorId: "collector-sweep", pluginInfo: { endpoint: plugin.url, options: { count: 20 } } });
    const back = await collect("collector-sweep", ["sa-sweep-01"]);
    expect(back.job).toMatchObject({ createdCount: 0, updatedCount: 20 });
    expect(await state()).toBe("OFF");
    expect(await countOf([{ k: "collector_id", v: text("collector-sweep") }])).toBe(20);
  }, 120_000);
});

describe("launching a job", () => {
  it("commits the job with its tasks: a task that cannot be written leaves no job to block the next Collect", async () => {
    await collector("collector-atomic", { count: 3 });
    const sql = postgres(platform.databaseUrl, { max: 1, onnotice: () => {} });
    try {
      // The database refuses this collector's tasks (as a process dying between the two writes would leave them unwritten).
      await sql.unsafe(`create function inventory.refuse_atomic_task() returns trigger language plpgsql as $$ begin raise exception 'task refused by the test'; end $$`);
      await sql.unsafe(
        `create trigger refuse_atomic_task before insert on inventory.job_tasks for each row when (new.collector_id = 'collector-atomic') execute function inventory.refuse_atomic_task()`,
      );
      await failure(collectors.collect({ collectorId: "collector-atomic", serviceAccountIds: ["sa-pull-01"] }));
      const [{ n }] = await sql`select count(*)::int as n from inventory.jobs where collector_id = 'collector-atomic'`;
      expect(n).toBe(0);
    } finally {
      await sql.unsafe(`drop trigger if exists refuse_atomic_task on inventory.job_tasks`);
      await sql.unsafe(`drop function if exists inventory.refuse_atomic_task()`);
      await sql.end();
    }
    const { job } = await collect("collector-atomic", ["sa-pull-01"]);
    expect(job).toMatchObject({ status: Job_Status.FINISHED, totalTaskCount: 1 });
  }, 60_000);
});
