import { Code, type Client } from "@connectrpc/connect";
import { decodeError } from "@cloudforet/errors";
import { randomUUID } from "node:crypto";
import { openEventBus, type EventBus, type PlatformEvent } from "@cloudforet/events";
import { CollectorService } from "@cloudforet/proto/cloudforet/inventory/v1/collector_pb";
import { Job_Status, JobService, JobServiceWatchResponse_Kind } from "@cloudforet/proto/cloudforet/inventory/v1/job_pb";
import { JobTask_Status, JobTaskService } from "@cloudforet/proto/cloudforet/inventory/v1/job_task_pb";
import { createLogger } from "@cloudforet/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postJson, seedError } from "../cloud-service/connect-json";
import type { TestPlatform } from "../support/platform";
import { createNutanixAccounts, startInventoryPlatform } from "./inventory-platform";

let platform: TestPlatform;
let collectors: Client<typeof CollectorService>;
let jobs: Client<typeof JobService>;
let tasks: Client<typeof JobTaskService>;
const events: PlatformEvent[] = [];
let bus: EventBus | undefined;
const failure = (promise: Promise<unknown>) => promise.then(() => expect.fail("expected an error"), (err) => decodeError(err));
const inventoryUrl = () => platform.url("inventory");

/** Seed 000 "Create Job", verbatim. */
const seedCreateJob = {
  collector_id: "collector-nutanix-001",
  name: "Nutanix Collection Job",
  service_account_ids: ["sa-prod-cluster-01", "sa-prod-cluster-02"],
  options: {
    include_resources: ["compute.Instance", "compute.Disk", "compute.Network"],
    timeout: 3600,
    batch_size: 100,
    incremental: false,
  },
};

beforeAll(async () => {
  platform = await startInventoryPlatform();
  collectors = platform.client(CollectorService);
  jobs = platform.client(JobService);
  tasks = platform.client(JobTaskService);
  // The services' bus: the in-process one, or JetStream when the services run on it.
  bus = await openEventBus({ url: process.env.INVENTORY_TEST_NATS_URL, logger: createLogger("test", "silent") });
  await bus.subscribe({
    durable: `seed-inventory-test-${randomUUID().slice(0, 8)}`,
    subjects: ["cloudforet.inventory.>"],
    deliverPolicy: "new",
    inactiveThresholdMs: 60_000,
    handler: (event) => void events.push(event),
  });
  await createNutanixAccounts(platform, platform.admin, "ws-nutanix", ["sa-prod-cluster-01", "sa-prod-cluster-02", "sa-prod-cluster-03"]);
  await createNutanixAccounts(platform, platform.admin, "ws-other", ["sa-other-01"]);
  // A push-mode collector: its plugin calls JobTaskService itself, as in the seed's walkthrough.
  await collectors.create({ collectorId: "collector-nutanix-001", name: "Nutanix", provider: "nutanix", workspaceId: "ws-nutanix" });
});

afterAll(async () => {
  await bus?.close();
  await platform?.close();
});

describe("seed 000: Create Job", () => {
  it("Case 1: an unknown collector is ERROR_NOT_FOUND with collector_id", async () => {
    const answer = await postJson(inventoryUrl(), "cloudforet.inventory.v1.JobService/Create", { ...seedCreateJob, collector_id: "collector-invalid" }, platform.admin);
    expect(answer.status).toBe(404);
    expect(seedError(answer)).toEqual({ code: "ERROR_NOT_FOUND", message: "Collector not found", collector_id: "collector-invalid" });
  });

  it("Case 2: an invalid service account is ERROR_INVALID_PARAMETER naming it", async () => {
    const answer = await postJson(
      inventoryUrl(),
      "cloudforet.inventory.v1.JobService/Create",
      { ...seedCreateJob, service_account_ids: ["sa-prod-cluster-01", "sa-invalid"] },
      platform.admin,
    );
    expect(answer.status).toBe(400);
    expect(seedError(answer)).toEqual({
      code: "ERROR_INVALID_PARAMETER",
      message: "Service account not found or not accessible",
      parameter: "service_account_ids",
      service_account_id: "sa-invalid",
    });
    // An account of another workspace is not accessible to this collector either.
    const elsewhere = await failure(jobs.create({ collectorId: "collector-nutanix-001", serviceAccountIds: ["sa-other-01"] }));
    expect(elsewhere).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { service_account_id: "sa-other-01" } });
    expect(await failure(jobs.create({ collectorId: "collector-nutanix-001", serviceAccountIds: [] }))).toMatchObject({ metadata: { parameter: "service_account_ids" } });
  });

  it("answers exactly the seed's response", async () => {
    const answer = await postJson(inventoryUrl(), "cloudforet.inventory.v1.JobService/Create", seedCreateJob, platform.admin);
    expect(answer.status).toBe(200);
    // started_at and finished_at are null in the seed: unset timestamps are left out of the JSON.
    expect(Object.keys(answer.body).sort()).toEqual(["job_id", "collector_id", "status", "created_at", "total_task_count", "succeeded_task_count", "failed_task_count"].sort());
    expect(answer.body).toMatchObject({ collector_id: "collector-nutanix-001", status: "CREATED", total_task_count: 2, succeeded_task_count: 0, failed_task_count: 0 });
    expect(answer.body.job_id).toMatch(/^job-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(answer.body.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    const job = await jobs.get({ jobId: answer.body.job_id as string });
    expect(job).toMatchObject({ name: "Nutanix Collection Job", serviceAccountIds: seedCreateJob.service_account_ids, options: seedCreateJob.options, workspaceId: "ws-nutanix" });
    await expect.poll(() => events.map((e) => e.subject)).toContain("cloudforet.inventory.job.created");
  });

  it("Case 3: a second job while one runs is ERROR_CONFLICT", async () => {
    const answer = await postJson(inventoryUrl(), "cloudforet.inventory.v1.JobService/Create", seedCreateJob, platform.admin);
    expect(answer.status).toBe(409);
    expect(seedError(answer)).toEqual({ code: "ERROR_CONFLICT", message: "Another job is already running for this collector", collector_id: "collector-nutanix-001" });
  });
});

describe("seed 000: JobTask Create, UpdateProgress, Complete", () => {
  let jobId: string;
  let taskId: string;

  beforeAll(async () => {
    const [running] = (await jobs.list({ query: { filter: [{ k: "collector_id", v: { kind: { case: "stringValue", value: "collector-nutanix-001" } } }] } })).results;
    jobId = running.jobId!;
  });

  it("Create JobTask answers exactly the seed's response", async () => {
    const answer = await postJson(
      inventoryUrl(),
      "cloudforet.inventory.v1.JobTaskService/Create",
      { job_id: jobId, service_account_id: "sa-prod-cluster-01", secret_id: "secret-nutanix-creds-01", status: "CREATED" },
      platform.admin,
    );
    expect(answer.status).toBe(200);
    expect(Object.keys(answer.body).sort()).toEqual(
      ["job_task_id", "job_id", "service_account_id", "secret_id", "status", "created_count", "updated_count", "deleted_count", "error_count", "created_at"].sort(),
    );
    expect(answer.body).toMatchObject({
      job_id: jobId,
      service_account_id: "sa-prod-cluster-01",
      secret_id: "secret-nutanix-creds-01",
      status: "CREATED",
      created_count: 0,
      updated_count: 0,
      deleted_count: 0,
      error_count: 0,
    });
    expect(answer.body.job_task_id).toMatch(/^task-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    taskId = answer.body.job_task_id as string;
  });

  it("Update JobTask Progress answers exactly the seed's response and starts the job", async () => {
    const answer = await postJson(
      inventoryUrl(),
      "cloudforet.inventory.v1.JobTaskService/UpdateProgress",
      { job_task_id: taskId, status: "IN_PROGRESS", progress: 35, updated_at: "2024-01-15T10:15:00Z" },
      platform.admin,
    );
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ job_task_id: taskId, status: "IN_PROGRESS", progress: 35 });
    const job = await jobs.get({ jobId });
    expect(job).toMatchObject({ status: Job_Status.IN_PROGRESS, progress: 17 });
    expect(job.startedAt).toBeDefined();
    await expect.poll(() => events.map((e) => e.subject)).toContain("cloudforet.inventory.job.started");
  });

  it("refuses bad progress reports", async () => {
    expect(await failure(tasks.updateProgress({ jobTaskId: taskId, status: JobTask_Status.IN_PROGRESS, progress: 101 }))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "progress" } });
    expect(await failure(tasks.updateProgress({ jobTaskId: taskId, status: JobTask_Status.FINISHED, progress: 100 }))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "status" } });
    expect(await failure(tasks.updateProgress({ jobTaskId: "task-missing", status: JobTask_Status.IN_PROGRESS, progress: 1 }))).toMatchObject({ code: "ERROR_NOT_FOUND", metadata: { job_task_id: "task-missing" } });
    expect(await failure(tasks.create({ jobId, serviceAccountId: "sa-prod-cluster-03" }))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "service_account_id" } });
    expect(await failure(tasks.create({ jobId, serviceAccountId: "sa-prod-cluster-01" }))).toMatchObject({ code: "ERROR_CONFLICT" });
    expect(await failure(tasks.complete({ jobTaskId: taskId, status: JobTask_Status.IN_PROGRESS }))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "status" } });
  });

  it("Complete JobTask answers exactly the seed's response; repeating it returns the same", async () => {
    const request = {
      job_task_id: taskId,
      status: "FINISHED",
      created_count: 450,
      updated_count: 125,
      deleted_count: 12,
      error_count: 3,
      disconnected_count: 0,
      finished_at: "2024-01-15T10:45:00Z",
    };
    const answer = await postJson(inventoryUrl(), "cloudforet.inventory.v1.JobTaskService/Complete", request, platform.admin);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ job_task_id: taskId, status: "FINISHED", created_count: 450, updated_count: 125, deleted_count: 12, error_count: 3, success: true });
    const again = await postJson(inventoryUrl(), "cloudforet.inventory.v1.JobTaskService/Complete", request, platform.admin);
    expect(again.body).toEqual(answer.body);
    const otherStatus = await failure(tasks.complete({ jobTaskId: taskId, status: JobTask_Status.FAILURE }));
    expect(otherStatus).toMatchObject({ code: "ERROR_CONFLICT", grpcCode: Code.FailedPrecondition });
    const task = await tasks.get({ jobTaskId: taskId });
    expect(task).toMatchObject({ status: JobTask_Status.FINISHED, progress: 100, createdCount: 450, collectorId: "collector-nutanix-001" });
    expect(task.finishedAt?.seconds).toBe(BigInt(Date.parse("2024-01-15T10:45:00Z") / 1000));
  });

  it("rolls the tasks up: counters sum, the job ends when its last task ends", async () => {
    let job = await jobs.get({ jobId });
    expect(job).toMatchObject({ status: Job_Status.IN_PROGRESS, succeededTaskCount: 1, failedTaskCount: 0, createdCount: 450, updatedCount: 125, deletedCount: 12, errorCount: 3, progress: 50 });
    const second = await tasks.create({ jobId, serviceAccountId: "sa-prod-cluster-02", status: JobTask_Status.IN_PROGRESS });
    expect(second.startedAt).toBeDefined();
    const done = await tasks.complete({ jobTaskId: second.jobTaskId, status: JobTask_Status.FAILURE, createdCount: 5, errorCount: 1 });
    expect(done.success).toBe(false);
    job = await jobs.get({ jobId });
    expect(job).toMatchObject({ status: Job_Status.FAILURE, succeededTaskCount: 1, failedTaskCount: 1, createdCount: 455, errorCount: 4, progress: 100 });
    expect(job.finishedAt).toBeDefined();
    await expect
      .poll(() => events.find((e) => e.subject === "cloudforet.inventory.job.finished" && (e.data as { job_id: string }).job_id === jobId)?.data)
      .toMatchObject({ job_id: jobId, status: "FAILURE", collector_id: "collector-nutanix-001", collector_name: "Nutanix", domain_id: "domain-default", workspace_id: "ws-nutanix", created_count: 455, error_count: 4 });
    expect((await collectors.get({ collectorId: "collector-nutanix-001" })).lastCollectedAt).toBeDefined();
    expect(await failure(tasks.create({ jobId, serviceAccountId: "sa-prod-cluster-01" }))).toMatchObject({ code: "ERROR_CONFLICT", grpcCode: Code.FailedPrecondition });
    // The job is over: the collector may run again.
    const next = await jobs.create({ collectorId: "collector-nutanix-001", serviceAccountIds: ["sa-prod-cluster-01"] });
    await jobs.cancel({ jobId: next.jobId });
  });

  it("finishes FINISHED when every task finishes, and announces it", async () => {
    const job = await jobs.create({ collectorId: "collector-nutanix-001", serviceAccountIds: ["sa-prod-cluster-01", "sa-prod-cluster-02"] });
    for (const sa of ["sa-prod-cluster-01", "sa-prod-cluster-02"]) {
      const task = await tasks.create({ jobId: job.jobId, serviceAccountId: sa });
      await tasks.complete({ jobTaskId: task.jobTaskId, status: JobTask_Status.FINISHED, createdCount: 1 });
    }
    expect(await jobs.get({ jobId: job.jobId })).toMatchObject({ status: Job_Status.FINISHED, succeededTaskCount: 2, createdCount: 2, progress: 100 });
    await expect.poll(() => events.filter((e) => e.subject === "cloudforet.inventory.job.finished").map((e) => (e.data as { job_id: string }).job_id)).toContain(job.jobId);
  });
});

describe("JobService: Watch, Cancel, TIMEOUT, List", () => {
  it("Watch streams a snapshot, then each change, and ends with the job", async () => {
    const job = await jobs.create({ collectorId: "collector-nutanix-001", serviceAccountIds: ["sa-prod-cluster-01"] });
    const seen: { kind: JobServiceWatchResponse_Kind; status?: Job_Status; progress?: number }[] = [];
    const watching = (async () => {
      for await (const message of jobs.watch({ jobId: job.jobId })) {
        seen.push({ kind: message.kind, status: message.job?.status, progress: message.task?.progress });
      }
    })();
    await expect.poll(() => seen.length).toBe(1);
    const task = await tasks.create({ jobId: job.jobId, serviceAccountId: "sa-prod-cluster-01" });
    for (const progress of [10, 60]) await tasks.updateProgress({ jobTaskId: task.jobTaskId, status: JobTask_Status.IN_PROGRESS, progress });
    await tasks.complete({ jobTaskId: task.jobTaskId, status: JobTask_Status.FINISHED });
    await watching;
    expect(seen[0]).toMatchObject({ kind: JobServiceWatchResponse_Kind.SNAPSHOT, status: Job_Status.CREATED });
    expect(seen.slice(1).map((m) => m.kind)).toEqual(Array(4).fill(JobServiceWatchResponse_Kind.TASK_UPDATED));
    expect(seen.slice(1).map((m) => m.progress)).toEqual([0, 10, 60, 100]);
    expect(seen.at(-1)?.status).toBe(Job_Status.FINISHED);
    expect(await failure((async () => {
      for await (const _ of jobs.watch({ jobId: "job-missing" })) void _;
    })())).toMatchObject({ code: "ERROR_NOT_FOUND" });
  });

  it("Cancel ends the job and its open tasks CANCELED; a second cancel is refused", async () => {
    const job = await jobs.create({ collectorId: "collector-nutanix-001", serviceAccountIds: ["sa-prod-cluster-01", "sa-prod-cluster-02"] });
    const task = await tasks.create({ jobId: job.jobId, serviceAccountId: "sa-prod-cluster-01", status: JobTask_Status.IN_PROGRESS });
    const canceled = await jobs.cancel({ jobId: job.jobId });
    expect(canceled).toMatchObject({ status: Job_Status.CANCELED, failedTaskCount: 1 });
    expect((await tasks.get({ jobTaskId: task.jobTaskId })).status).toBe(JobTask_Status.CANCELED);
    expect(await failure(jobs.cancel({ jobId: job.jobId }))).toMatchObject({ code: "ERROR_CONFLICT", grpcCode: Code.FailedPrecondition });
    expect(await failure(tasks.updateProgress({ jobTaskId: task.jobTaskId, status: JobTask_Status.IN_PROGRESS, progress: 5 }))).toMatchObject({ grpcCode: Code.FailedPrecondition });
  });

  it("a job still running after its timeout ends TIMEOUT", async () => {
    const job = await jobs.create({ collectorId: "collector-nutanix-001", serviceAccountIds: ["sa-prod-cluster-01"], options: { timeout: 1 } });
    const task = await tasks.create({ jobId: job.jobId, serviceAccountId: "sa-prod-cluster-01", status: JobTask_Status.IN_PROGRESS });
    await expect.poll(async () => (await jobs.get({ jobId: job.jobId })).status, { timeout: 5000 }).toBe(Job_Status.TIMEOUT);
    expect((await tasks.get({ jobTaskId: task.jobTaskId })).status).toBe(JobTask_Status.TIMEOUT);
    await expect.poll(() => events.find((e) => e.subject === "cloudforet.inventory.job.finished" && (e.data as { job_id: string }).job_id === job.jobId)?.data).toMatchObject({ status: "TIMEOUT" });
    expect(await failure(jobs.create({ collectorId: "collector-nutanix-001", serviceAccountIds: ["sa-prod-cluster-01"], options: { timeout: -5 } }))).toMatchObject({
      metadata: { parameter: "options.timeout" },
    });
  });

  it("lists jobs and tasks through the query language", async () => {
    const finished = await jobs.list({ query: { filter: [{ k: "status", v: { kind: { case: "stringValue", value: "FINISHED" } } }] } });
    expect(finished.totalCount).toBe(2);
    const byAccount = await tasks.list({ query: { filter: [{ k: "service_account_id", v: { kind: { case: "stringValue", value: "sa-prod-cluster-02" } } }], only: ["job_task_id", "status"] } });
    expect(byAccount.totalCount).toBeGreaterThanOrEqual(2);
    expect(byAccount.results[0].serviceAccountId).toBe("");
    expect(await failure(jobs.list({ query: { filter: [{ k: "nope", v: { kind: { case: "stringValue", value: "x" } } }] } }))).toMatchObject({ metadata: { parameter: "query.filter[0]" } });
  });
});

describe("CollectorService", () => {
  it("creates with a chosen or generated id and validates its input", async () => {
    const generated = await collectors.create({ name: "AWS", provider: "aws", workspaceId: "ws-nutanix", schedule: { enabled: true, cron: "0 */6 * * *", timezone: "Asia/Seoul" }, tags: { team: "infra" } });
    expect(generated.collectorId).toMatch(/^collector-[0-9a-f]{8}$/);
    expect(generated.schedule).toMatchObject({ enabled: true, cron: "0 */6 * * *", timezone: "Asia/Seoul" });
    expect(await failure(collectors.create({ collectorId: "collector-nutanix-001", name: "dup", provider: "nutanix", workspaceId: "ws-nutanix" }))).toMatchObject({ code: "ERROR_CONFLICT", metadata: { collector_id: "collector-nutanix-001" } });
    expect(await failure(collectors.create({ name: "x", provider: "nutanix", workspaceId: "ws-nutanix", pluginInfo: { endpoint: "ftp://x" } }))).toMatchObject({ metadata: { parameter: "plugin_info.endpoint" } });
    expect(await failure(collectors.create({ name: "x", provider: "nutanix", workspaceId: "ws-nutanix", schedule: { cron: "61 * * * *" } }))).toMatchObject({ metadata: { parameter: "schedule.cron" } });
    expect(await failure(collectors.create({ name: "x", provider: "nutanix", workspaceId: "ws-nutanix", schedule: { cron: "* * * * *", timezone: "Mars/Base" } }))).toMatchObject({ metadata: { parameter: "schedule.timezone" } });
    expect(await failure(collectors.create({ provider: "nutanix", workspaceId: "ws-nutanix" }))).toMatchObject({ message: "Missing required field", metadata: { parameter: "name" } });
    expect(await failure(collectors.create({ name: "x", provider: "nutanix", workspaceId: "ws-missing" }))).toMatchObject({ metadata: { parameter: "workspace_id" } });
  });

  it("gets, lists, updates (tags merge), and deletes unless a job runs", async () => {
    const created = await collectors.create({ collectorId: "collector-tmp", name: "Tmp", provider: "nutanix", workspaceId: "ws-nutanix", tags: { a: "1", b: "2" } });
    const updated = await collectors.update({ collectorId: "collector-tmp", name: "Renamed", tags: { c: "3" }, removeTags: ["a"], clearSchedule: true });
    expect(updated).toMatchObject({ name: "Renamed", tags: { b: "2", c: "3" }, provider: "nutanix" });
    expect((await collectors.get({ collectorId: created.collectorId })).name).toBe("Renamed");
    const listed = await collectors.list({ query: { filter: [{ k: "provider", v: { kind: { case: "stringValue", value: "nutanix" } } }] } });
    expect(listed.results.map((c) => c.collectorId)).toEqual(["collector-nutanix-001", "collector-tmp"]);
    const job = await jobs.create({ collectorId: "collector-tmp", serviceAccountIds: ["sa-prod-cluster-03"] });
    expect(await failure(collectors.delete({ collectorId: "collector-tmp" }))).toMatchObject({ code: "ERROR_CONFLICT", grpcCode: Code.FailedPrecondition });
    await jobs.cancel({ jobId: job.jobId });
    await collectors.delete({ collectorId: "collector-tmp" });
    expect(await failure(collectors.get({ collectorId: "collector-tmp" }))).toMatchObject({ code: "ERROR_NOT_FOUND", message: "Collector not found" });
    expect(await failure(collectors.collect({ collectorId: "collector-nutanix-001" }))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "collector_id" } });
    expect(await failure(collectors.verify({ collectorId: "collector-nutanix-001" }))).toMatchObject({ code: "ERROR_INVALID_PARAMETER" });
  });
});
