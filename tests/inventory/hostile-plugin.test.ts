import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { JsonObject } from "@bufbuild/protobuf";
import { decodeError } from "@cloudforet/errors";
import { CloudServiceService } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_pb";
import { CollectorService } from "@cloudforet/proto/cloudforet/inventory/v1/collector_pb";
import { Job_Status, JobService, type JobServiceGetResponse } from "@cloudforet/proto/cloudforet/inventory/v1/job_pb";
import { JobTask_Status, JobTaskService, type JobTask } from "@cloudforet/proto/cloudforet/inventory/v1/job_task_pb";
import { servePlugin, type ServedPlugin } from "@cloudforet/plugin-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Identity, TestPlatform } from "../support/platform";
import { createNutanixAccounts, startInventoryPlatform } from "./inventory-platform";
import { testPlugin } from "./test-plugin";

/** Each BatchUpsert message at most 1 MiB here, so a 2 MB item fits a plugin message but not an upsert. */
const UPSERT_MAX = 1024 * 1024;
const MiB = 1024 * 1024;

let platform: TestPlatform;
let hostile: { url: string; child: ChildProcess };
let honest: ServedPlugin;
let domainB: Identity;
const text = (value: string) => ({ kind: { case: "stringValue" as const, value } });

async function spawnHostilePlugin(): Promise<{ url: string; child: ChildProcess }> {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
  const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "tests/inventory/hostile-plugin.ts")], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  const stderr: string[] = [];
  child.stderr!.on("data", (chunk) => stderr.push(String(chunk)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`hostile plugin did not start: ${stderr.join("").slice(-2000)}`)), 60_000);
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (!line.includes('"ready"')) return;
      clearTimeout(timer);
      resolve((JSON.parse(line) as { url: string }).url);
    });
    child.once("exit", (code) => reject(new Error(`hostile plugin exited (${code}): ${stderr.join("").slice(-2000)}`)));
  });
  return { url, child };
}

beforeAll(async () => {
  [hostile, honest, platform] = await Promise.all([
    spawnHostilePlugin(),
    servePlugin(testPlugin, { host: "127.0.0.1", port: 0 }),
    startInventoryPlatform({ INVENTORY_UPSERT_MAX_MESSAGE_BYTES: String(UPSERT_MAX) }),
  ]);
  domainB = await platform.createDomainAdmin("domain-honest");
  await createNutanixAccounts(platform, platform.admin, "ws-a", ["sa-huge", "sa-large", "sa-bad", "sa-nul", "sa-victim"]);
  await createNutanixAccounts(platform, platform.admin, "ws-thief", ["sa-thief"]);
  await createNutanixAccounts(platform, domainB, "ws-b", ["sa-b-01"]);
}, 180_000);

afterAll(async () => {
  await platform?.close();
  await honest?.close();
  hostile?.child.kill("SIGTERM");
});

async function createCollector(collectorId: string, workspaceId: string, endpoint: string, options: JsonObject, as: Identity = platform.admin) {
  await platform.client(CollectorService, as).create({ collectorId, name: collectorId, provider: "nutanix", workspaceId, pluginInfo: { endpoint, options } });
}

/** Collect, then wait for the job's end; the final job and its task. */
async function collect(collectorId: string, serviceAccountId: string, as: Identity = platform.admin): Promise<{ job: JobServiceGetResponse; task: JobTask }> {
  const started = await platform.client(CollectorService, as).collect({ collectorId, serviceAccountIds: [serviceAccountId] });
  const jobs = platform.client(JobService, as);
  let job: JobServiceGetResponse = (await jobs.get({ jobId: started.jobId }));
  await expect
    .poll(async () => {
      job = (await jobs.get({ jobId: started.jobId }));
      return job.status === Job_Status.CREATED || job.status === Job_Status.IN_PROGRESS;
    }, { timeout: 60_000, interval: 100 })
    .toBe(false);
  const [task] = (await platform.client(JobTaskService, as).list({ query: { filter: [{ k: "job_id", v: text(started.jobId) }] } })).results;
  return { job, task };
}

const resourcesOf = async (collectorId: string, as: Identity = platform.admin) =>
  (await platform.client(CloudServiceService, as).list({ query: { filter: [{ k: "collector_id", v: text(collectorId) }] } })).results;

describe("finding 1: one oversized plugin message", () => {
  it("fails only that task with a clear 'too large', keeps memory bounded, and another domain's collection runs normally right after", async () => {
    await createCollector("collector-huge", "ws-a", hostile.url, { attack: "huge_item", bytes: 100 * MiB });
    await createCollector("collector-honest", "ws-b", honest.url, { count: 200 }, domainB);
    global.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    const huge = await collect("collector-huge", "sa-huge");
    clearInterval(sampler);
    expect(peak - before).toBeLessThan(150 * MiB);
    expect(huge.job.status).toBe(Job_Status.FAILURE);
    expect(huge.task.status).toBe(JobTask_Status.FAILURE);
    expect(huge.task.errors.at(-1)).toMatch(/^ERROR_PAYLOAD_TOO_LARGE: resource too large: \d+ bytes > 4194304 limit/);

    const startedAt = Date.now();
    const normal = await collect("collector-honest", "sa-b-01", domainB);
    expect(Date.now() - startedAt).toBeLessThan(20_000);
    expect(normal.job).toMatchObject({ status: Job_Status.FINISHED, createdCount: 200, errorCount: 0 });
  }, 180_000);

  it("an item under the plugin limit but over the upsert limit is one item error; the others are stored", async () => {
    await createCollector("collector-large", "ws-a", hostile.url, { attack: "large_item", bytes: 2 * MiB });
    const { job, task } = await collect("collector-large", "sa-large");
    expect(job).toMatchObject({ status: Job_Status.FINISHED, createdCount: 2, errorCount: 1 });
    expect(task.errors).toEqual([expect.stringMatching(new RegExp(`^resource large-sa-large: resource too large: \\d+ bytes > ${UPSERT_MAX - 16} limit$`))]);
    expect((await resourcesOf("collector-large")).map((r) => r.name).sort()).toEqual(["after-large-sa-large", "before-large-sa-large"]);
    // The honest domain still collects: cloud-service's connection and breaker were not poisoned.
    expect((await collect("collector-honest", "sa-b-01", domainB)).job).toMatchObject({ status: Job_Status.FINISHED, updatedCount: 200 });
  }, 120_000);
});

describe("finding 3: a collector cannot take over resources of another workspace", () => {
  it("leaves the victim in workspace A unchanged when a collector in workspace B yields its resource id", async () => {
    await createCollector("collector-victim", "ws-a", hostile.url, { count: 2 });
    expect((await collect("collector-victim", "sa-victim")).job).toMatchObject({ status: Job_Status.FINISHED, createdCount: 2 });
    const [victim] = (await platform.client(CloudServiceService).list({ query: { filter: [{ k: "reference.resource_id", v: text("plain-sa-victim-0") }] } })).results;
    expect(victim).toMatchObject({ workspaceId: "ws-a", collectorId: "collector-victim" });

    await createCollector("collector-thief", "ws-thief", hostile.url, { attack: "steal", victim_resource_id: "plain-sa-victim-0" });
    const { job, task } = await collect("collector-thief", "sa-thief");
    expect(job).toMatchObject({ status: Job_Status.FINISHED, createdCount: 1, updatedCount: 0, errorCount: 1 });
    expect(task.errors).toEqual([expect.stringContaining("ERROR_PERMISSION_DENIED: The matching resource belongs to another workspace")]);

    const after = await platform.client(CloudServiceService).get({ cloudServiceId: victim.cloudServiceId });
    expect(after).toMatchObject({ workspaceId: "ws-a", collectorId: "collector-victim", jobTaskId: victim.jobTaskId });
    expect(after.data).toEqual(victim.data);
    expect(after.data).not.toHaveProperty("stolen");
    expect((await resourcesOf("collector-thief")).map((r) => [r.name, r.workspaceId])).toEqual([["thief-own-sa-thief", "ws-thief"]]);
  }, 120_000);
});

describe("finding 5: plugin-supplied text and items", () => {
  it("refuses an Init metadata over 64 KiB with INVALID_ARGUMENT and stores nothing", async () => {
    await createCollector("collector-fat-init", "ws-a", hostile.url, { metadata_bytes: MiB });
    const err = await platform
      .client(CollectorService)
      .verify({ collectorId: "collector-fat-init" })
      .then(() => expect.fail("expected an error"), (e) => decodeError(e));
    expect(err).toMatchObject({ code: "ERROR_INVALID_PARAMETER", message: expect.stringMatching(/^The plugin's Init metadata is too large: \d+ bytes > 65536 limit$/) });
    expect((await platform.client(CollectorService).get({ collectorId: "collector-fat-init" })).pluginInfo?.metadata ?? {}).toEqual({});
  }, 60_000);

  it("one invalid item (bad UTF-8, nested too deep, NUL) is one error; the valid items around it are stored; long messages are cut", async () => {
    await createCollector("collector-bad-items", "ws-a", hostile.url, { attack: "bad_items" });
    const { job, task } = await collect("collector-bad-items", "sa-bad");
    expect(job).toMatchObject({ status: Job_Status.FINISHED, createdCount: 3, errorCount: 4 });
    expect(task.errors).toEqual([
      "item #1: resource is not valid UTF-8",
      "item #3: resource is nested deeper than 32 levels",
      "item #4: resource contains a NUL character",
      expect.stringMatching(/^resource failed-sa-bad: deniedx+… \(truncated\)$/),
    ]);
    for (const line of task.errors) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(2048);
    expect((await resourcesOf("collector-bad-items")).map((r) => r.name).sort()).toEqual(["good-sa-bad-0", "good-sa-bad-1", "good-sa-bad-2"]);
  }, 60_000);

  it("a plugin failure with a NUL byte and 60 KB of text ends the task FAILURE (not stuck IN_PROGRESS), its message sanitised and truncated", async () => {
    await createCollector("collector-nul", "ws-a", hostile.url, { attack: "nul_failure" });
    const { job, task } = await collect("collector-nul", "sa-nul");
    expect(job).toMatchObject({ status: Job_Status.FAILURE, createdCount: 1 });
    const reason = task.errors.at(-1)!;
    expect(reason).toMatch(/^ERROR_SERVICE_UNAVAILABLE: Prism exploded: y+… \(truncated\)$/);
    expect(reason).not.toContain("\u0000");
    expect(Buffer.byteLength(reason)).toBeLessThanOrEqual(2048);
  }, 60_000);
});
