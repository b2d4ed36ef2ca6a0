import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import type { JsonObject } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import { decodeError } from "@cloudforet/errors";
import { CloudServiceService } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_pb";
import { CostService } from "@cloudforet/proto/cloudforet/cost/v1/cost_pb";
import { ApiKeyService } from "@cloudforet/proto/cloudforet/identity/v1/api_key_pb";
import { SecretService } from "@cloudforet/proto/cloudforet/identity/v1/secret_pb";
import { ServiceAccountService } from "@cloudforet/proto/cloudforet/identity/v1/service_account_pb";
import { WorkspaceService } from "@cloudforet/proto/cloudforet/identity/v1/workspace_pb";
import { CollectorService } from "@cloudforet/proto/cloudforet/inventory/v1/collector_pb";
import { Job_Status, JobService, JobServiceWatchResponse_Kind, type Job } from "@cloudforet/proto/cloudforet/inventory/v1/job_pb";
import { JobTask_Status, JobTaskService, type JobTask } from "@cloudforet/proto/cloudforet/inventory/v1/job_task_pb";
import { MetricService } from "@cloudforet/proto/cloudforet/monitoring/v1/metric_pb";
import { Notification_Severity, NotificationService } from "@cloudforet/proto/cloudforet/notification/v1/notification_pb";
import { servePlugin, type ServedPlugin } from "@cloudforet/plugin-sdk";
import { secretCanary } from "@cloudforet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger, nutanixPlugin, runPushCollection, type PushConfig } from "../../plugins/collector-nutanix/src/index";
import type { TestPlatform } from "../support/platform";
import { startPrismSimulator, type PrismSimulator } from "../support/prism-simulator";
import { platformUrls, startNutanixPlatform } from "./nutanix-platform";

const logger = createLogger(process.env.TEST_LOG_LEVEL ?? "silent");
const WS = "ws-nutanix";
const text = (value: string) => ({ kind: { case: "stringValue" as const, value } });
const eq = (k: string, v: string) => ({ k, v: text(v) });

let platform: TestPlatform;
let sim: PrismSimulator;
let faultySim: PrismSimulator;
/** A second Prism for push mode, so its VMs are not the ones pull mode already collected. */
let pushSim: PrismSimulator;
let pushTotal: number;
let plugin: ServedPlugin;
let collectors: Client<typeof CollectorService>;
let jobs: Client<typeof JobService>;
let tasks: Client<typeof JobTaskService>;
let resources: Client<typeof CloudServiceService>;
let apiKey: string;
let expectedTotal: number;
/** A canary (packages/testing): the secrets sweep looks for it in every table and log line. Every Prism takes it: the accounts share one secret. */
const PRISM_PASSWORD = secretCanary("prism_password");

beforeAll(async () => {
  sim = await startPrismSimulator({ seed: 2024, clusters: 2, vms: 40, subnets: 3, password: PRISM_PASSWORD });
  faultySim = await startPrismSimulator({ seed: 1 });
  pushSim = await startPrismSimulator({ seed: 99, clusters: 3, vms: 60, subnets: 4, password: PRISM_PASSWORD });
  pushTotal = pushSim.subnets.length + pushSim.vms.length + pushSim.diskCount;
  faultySim.fault = "unavailable";
  expectedTotal = sim.subnets.length + sim.vms.length + sim.diskCount;
  plugin = await servePlugin(nutanixPlugin(logger), { host: "127.0.0.1", port: 0 });
  platform = await startNutanixPlatform();
  collectors = platform.client(CollectorService);
  jobs = platform.client(JobService);
  tasks = platform.client(JobTaskService);
  resources = platform.client(CloudServiceService);
  await platform.client(WorkspaceService).create({ workspaceId: WS, name: WS });
  const secret = await platform.client(SecretService).create({
    name: "nutanix-prism-creds",
    workspaceId: WS,
    data: { nutanix_host: "prism.nutanix.local", nutanix_username: sim.username, nutanix_password: sim.password, nutanix_port: 9440, verify_ssl: true },
  });
  const wrong = await platform.client(SecretService).create({ name: "nutanix-wrong-creds", workspaceId: WS, data: { nutanix_host: "prism.nutanix.local", nutanix_username: sim.username, nutanix_password: secretCanary("wrong_prism_password") } });
  for (const [serviceAccountId, secretId] of [["sa-pull", secret.secretId], ["sa-push", secret.secretId], ["sa-fault", secret.secretId], ["sa-push-fault", secret.secretId], ["sa-nameless", secret.secretId], ["sa-nameless-pull", secret.secretId], ["sa-wrong", wrong.secretId]]) {
    await platform.client(ServiceAccountService).create({ serviceAccountId, name: serviceAccountId, provider: "nutanix", workspaceId: WS, secretId });
  }
  apiKey = (await platform.client(ApiKeyService).create({ userId: "admin", name: "nutanix-plugin" })).apiKey;
}, 120_000);

afterAll(async () => {
  await platform?.close();
  await plugin?.close();
  await sim?.close();
  await faultySim?.close();
  await pushSim?.close();
});

async function pullCollector(collectorId: string, options: JsonObject) {
  await collectors.create({ collectorId, name: collectorId, provider: "nutanix", workspaceId: WS, pluginInfo: { endpoint: plugin.url, options } });
}

async function pull(collectorId: string, serviceAccountId: string): Promise<{ job: Job; task: JobTask }> {
  const started = await collectors.collect({ collectorId, serviceAccountIds: [serviceAccountId] });
  let job: Job | undefined;
  for await (const message of jobs.watch({ jobId: started.jobId })) job = message.job;
  const [task] = (await tasks.list({ query: { filter: [eq("job_id", started.jobId)] } })).results;
  return { job: job!, task };
}

const countOf = async (filter: { k: string; v: unknown }[]) => (await resources.list({ query: { filter, countOnly: true } as never })).totalCount;

function pushConfig(overrides: Partial<PushConfig> = {}): PushConfig {
  return {
    urls: platformUrls(platform),
    domainId: "domain-default",
    userId: "admin",
    apiKey,
    collectorId: "collector-nutanix-push",
    serviceAccountId: "sa-push",
    options: { prism_url: pushSim.url, page_size: 15, batch_size: 25, retry_base_delay_ms: 5 },
    logger,
    ...overrides,
  };
}

describe("pull mode: the plugin served through inventory's CollectorService", () => {
  it("Verify logs into Prism with the account's secret", async () => {
    await pullCollector("collector-nutanix-pull", { prism_url: sim.url, page_size: 15 });
    const verified = await collectors.verify({ collectorId: "collector-nutanix-pull", serviceAccountId: "sa-pull" });
    expect(verified).toMatchObject({ success: true, metadata: { supported_providers: ["nutanix"], version: "1.0.0" } });
    const rejected = await collectors.verify({ collectorId: "collector-nutanix-pull", serviceAccountId: "sa-wrong" });
    expect(rejected.success).toBe(false);
    expect(rejected.message).toMatch(/^ERROR_AUTHENTICATE_FAILURE: Invalid Prism credentials \(Prism \/api\/nutanix\/v3\/clusters\/list answered HTTP 401/);
  });

  it("the job's counts equal the simulator's inventory, and a second run updates instead of duplicating", async () => {
    const first = await pull("collector-nutanix-pull", "sa-pull");
    expect(first.job).toMatchObject({ status: Job_Status.FINISHED, createdCount: expectedTotal, updatedCount: 0, errorCount: 0 });
    expect(first.task).toMatchObject({ status: JobTask_Status.FINISHED, createdCount: expectedTotal, progress: 100 });
    expect(await countOf([eq("collector_id", "collector-nutanix-pull")])).toBe(expectedTotal);
    expect(await countOf([eq("collector_id", "collector-nutanix-pull"), eq("cloud_service_type", "compute.Instance")])).toBe(sim.vms.length);
    expect(await countOf([eq("collector_id", "collector-nutanix-pull"), eq("cloud_service_type", "compute.Disk")])).toBe(sim.diskCount);
    expect(await countOf([eq("collector_id", "collector-nutanix-pull"), eq("cloud_service_type", "compute.Network")])).toBe(sim.subnets.length);
    const vm = sim.vms[3];
    const [one] = (await resources.list({ query: { filter: [eq("reference.resource_id", vm.metadata.uuid)] } })).results;
    expect(one).toMatchObject({ name: vm.spec.name, provider: "nutanix", account: "sa-pull", cloudServiceType: "compute.Instance", cloudServiceGroup: "Nutanix", state: vm.spec.resources.power_state, workspaceId: WS });
    expect(one.data).toMatchObject({ nutanix_uuid: vm.metadata.uuid, vcpu_count: vm.spec.resources.num_sockets * vm.spec.resources.num_vcpus_per_socket, cluster: vm.spec.cluster_reference.name, hypervisor_type: "AHV" });
    expect(one.tags).toMatchObject({ cluster: vm.spec.cluster_reference.name, owner: "devops-team" });
    expect(one.reference?.externalLink).toBe(`${sim.url}/console/#page/vm_details/${vm.metadata.uuid}`);

    const second = await pull("collector-nutanix-pull", "sa-pull");
    expect(second.job).toMatchObject({ status: Job_Status.FINISHED, createdCount: 0, updatedCount: expectedTotal, errorCount: 0 });
    expect(await countOf([eq("collector_id", "collector-nutanix-pull")])).toBe(expectedTotal);
  }, 120_000);

  it("a Prism answering 503s trips the breaker and the task fails with a clear error", async () => {
    await pullCollector("collector-nutanix-fault", { prism_url: faultySim.url, retry_max_attempts: 3, retry_base_delay_ms: 5, breaker_failure_threshold: 3 });
    const before = faultySim.requests.get("/api/nutanix/v3/clusters/list") ?? 0;
    const { job, task } = await pull("collector-nutanix-fault", "sa-fault");
    expect(job).toMatchObject({ status: Job_Status.FAILURE, failedTaskCount: 1, createdCount: 0 });
    expect(task.status).toBe(JobTask_Status.FAILURE);
    expect(task.errors.at(-1)).toMatch(/^ERROR_SERVICE_UNAVAILABLE: Nutanix Prism circuit breaker is open after 3 consecutive failures; failing fast; last failure: Nutanix Prism unavailable \(Prism \/api\/nutanix\/v3\/clusters\/list answered HTTP 503/);
    expect((faultySim.requests.get("/api/nutanix/v3/clusters/list") ?? 0) - before).toBe(3);
    // The plugin keeps the circuit per Prism: the next call fails fast without reaching Prism.
    const verified = await collectors.verify({ collectorId: "collector-nutanix-fault", serviceAccountId: "sa-fault" }).then(() => expect.fail("expected an error"), (err: unknown) => decodeError(err));
    expect(verified).toMatchObject({ code: "ERROR_SERVICE_UNAVAILABLE" });
    expect(verified.message).toContain("Nutanix Prism circuit breaker is open after 3 consecutive failures");
    expect((faultySim.requests.get("/api/nutanix/v3/clusters/list") ?? 0) - before).toBe(3);
  }, 60_000);
});

describe("push mode: the seed's walkthrough against the platform", () => {
  beforeAll(async () => {
    await collectors.create({ collectorId: "collector-nutanix-push", name: "Nutanix push", provider: "nutanix", workspaceId: WS, pluginInfo: {} });
  });

  it("logs in with an API key, upserts in batches, pushes costs and metrics, completes with exact counts and notifies", async () => {
    const result = await runPushCollection(pushConfig());
    expect(result).toMatchObject({ status: "FINISHED", createdCount: pushTotal, updatedCount: 0, errorCount: 0, costCount: pushSim.vms.length, errors: [] });
    const task = await tasks.get({ jobTaskId: result.jobTaskId });
    expect(task).toMatchObject({ status: JobTask_Status.FINISHED, createdCount: pushTotal, updatedCount: 0, errorCount: 0, serviceAccountId: "sa-push", collectorId: "collector-nutanix-push" });
    await expect.poll(async () => (await jobs.get({ jobId: result.jobId })).status).toBe(Job_Status.FINISHED);
    expect(await jobs.get({ jobId: result.jobId })).toMatchObject({ createdCount: pushTotal, succeededTaskCount: 1 });
    expect(await countOf([eq("collector_id", "collector-nutanix-push")])).toBe(pushTotal);
    expect(await countOf([eq("account", "sa-push"), eq("job_task_id", result.jobTaskId)])).toBe(pushTotal);

    const running = pushSim.vms.filter((vm) => vm.spec.resources.power_state === "ON");
    expect(result.metricCount).toBe(running.length * 2);
    const cpu = await platform.client(MetricService).query({ query: { filter: [eq("metric_name", "cpu.utilization"), eq("resource_id", running[0].metadata.uuid)] } });
    expect(cpu.results[0]).toMatchObject({ value: Math.round(Number(running[0].simulatedStats.hypervisor_cpu_usage_ppm) / 100) / 100, unit: "percent" });

    const costs = await platform.client(CostService).list({ query: { filter: [eq("resource_id", pushSim.vms[0].metadata.uuid)] } });
    expect(costs.totalCount).toBe(1);
    expect(costs.results[0]).toMatchObject({ resourceType: "compute.Instance", region: "on-premises", currency: "USD" });
    expect(costs.results[0].cost).toBeGreaterThan(0);

    const sent = await platform.client(NotificationService).get({ notificationId: result.notificationId! });
    expect(sent).toMatchObject({ title: "Collection Complete: Nutanix Plugin", message: `Successfully collected ${pushTotal} resources. 0 errors occurred.`, severity: Notification_Severity.INFO });
    expect(sent.tags).toMatchObject({ collector_id: "collector-nutanix-push", job_id: result.jobId, resource_count: String(pushTotal), error_count: "0" });
  }, 120_000);

  it("a second run into a job created beforehand reports monotonic progress, updates the same resources and does not charge the day twice", async () => {
    const created = await jobs.create({ collectorId: "collector-nutanix-push", name: "Nutanix Collection Job", serviceAccountIds: ["sa-push"] });
    const progress: number[] = [];
    const watching = (async () => {
      for await (const message of jobs.watch({ jobId: created.jobId })) {
        if (message.kind === JobServiceWatchResponse_Kind.TASK_UPDATED && message.task) progress.push(message.task.progress);
      }
    })();
    const result = await runPushCollection(pushConfig({ jobId: created.jobId }));
    await watching;
    expect(result).toMatchObject({ jobId: created.jobId, status: "FINISHED", createdCount: 0, updatedCount: pushTotal, errorCount: 0 });
    expect(progress.length).toBeGreaterThan(5);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress.at(-1)).toBe(100);
    expect(await countOf([eq("collector_id", "collector-nutanix-push")])).toBe(pushTotal);
    const costs = await platform.client(CostService).list({ query: { filter: [eq("resource_id", pushSim.vms[0].metadata.uuid)] } });
    expect(costs.totalCount).toBe(1);
  }, 120_000);

  it("a Prism answering 503s trips the breaker: the task is FAILURE and the notification says why", async () => {
    await collectors.create({ collectorId: "collector-nutanix-push-fault", name: "Nutanix push fault", provider: "nutanix", workspaceId: WS, pluginInfo: {} });
    const result = await runPushCollection(
      pushConfig({ collectorId: "collector-nutanix-push-fault", serviceAccountId: "sa-push-fault", options: { prism_url: faultySim.url, retry_base_delay_ms: 5, breaker_failure_threshold: 3 } }),
    );
    expect(result.status).toBe("FAILURE");
    expect(result.failure).toMatch(/^ERROR_SERVICE_UNAVAILABLE: Nutanix Prism circuit breaker is open after 3 consecutive failures/);
    const task = await tasks.get({ jobTaskId: result.jobTaskId });
    expect(task).toMatchObject({ status: JobTask_Status.FAILURE, createdCount: 0, errorCount: 1 });
    await expect.poll(async () => (await jobs.get({ jobId: result.jobId })).status).toBe(Job_Status.FAILURE);
    const sent = await platform.client(NotificationService).get({ notificationId: result.notificationId! });
    expect(sent).toMatchObject({ title: "Collection Failed: Nutanix Plugin", severity: Notification_Severity.ERROR });
    expect(sent.message).toContain("circuit breaker is open");
  }, 60_000);

  it("entities cloud-service refuses are counted as errors, and the notification warns", async () => {
    const nameless = await startPrismSimulator({ seed: 31, vms: 12, subnets: 2, nameless: [2, 5], password: PRISM_PASSWORD });
    try {
      // Pull first: its service identity owns only the collector's workspace, so it could not adopt the
      // domain-level resources a domain admin's push leaves; the push then updates the pulled ones.
      await pullCollector("collector-nutanix-nameless-pull", { prism_url: nameless.url });
      const pulled = await pull("collector-nutanix-nameless-pull", "sa-nameless-pull");
      expect(pulled.job).toMatchObject({ status: Job_Status.FINISHED, errorCount: 2 });

      await collectors.create({ collectorId: "collector-nutanix-nameless", name: "nameless", provider: "nutanix", workspaceId: WS, pluginInfo: {} });
      const total = nameless.subnets.length + nameless.vms.length + nameless.diskCount;
      const result = await runPushCollection(pushConfig({ collectorId: "collector-nutanix-nameless", serviceAccountId: "sa-nameless", options: { prism_url: nameless.url } }));
      expect(result).toMatchObject({ status: "FINISHED", updatedCount: total - 2, errorCount: 2 });
      expect(result.errors).toEqual([expect.stringContaining(`${nameless.vms[2].metadata.uuid}: ERROR_INVALID_PARAMETER`), expect.stringContaining(`${nameless.vms[5].metadata.uuid}: ERROR_INVALID_PARAMETER`)]);
      expect(await tasks.get({ jobTaskId: result.jobTaskId })).toMatchObject({ status: JobTask_Status.FINISHED, updatedCount: total - 2, errorCount: 2 });
      const sent = await platform.client(NotificationService).get({ notificationId: result.notificationId! });
      expect(sent).toMatchObject({ severity: Notification_Severity.WARNING });
      expect(sent.message).toContain("2 errors occurred");
    } finally {
      await nameless.close();
    }
  }, 60_000);

  it("a job canceled while the collector runs stops it, leaving the task CANCELED", async () => {
    const created = await jobs.create({ collectorId: "collector-nutanix-push", name: "to cancel", serviceAccountIds: ["sa-push"] });
    pushSim.latencyMs = 40;
    try {
      const running = runPushCollection(pushConfig({ jobId: created.jobId, options: { prism_url: pushSim.url, page_size: 5, retry_base_delay_ms: 5 } }));
      await expect.poll(async () => (await tasks.list({ query: { filter: [eq("job_id", created.jobId)] } })).totalCount).toBe(1);
      await jobs.cancel({ jobId: created.jobId });
      const result = await running;
      expect(result.status).toBe("CANCELED");
      expect((await tasks.get({ jobTaskId: result.jobTaskId })).status).toBe(JobTask_Status.CANCELED);
    } finally {
      pushSim.latencyMs = 0;
    }
  }, 60_000);

  it("a wrong API key fails the login with ERROR_AUTHENTICATE_FAILURE before any task exists", async () => {
    const err = await runPushCollection(pushConfig({ apiKey: "not-a-key" })).then(() => expect.fail("expected an error"), (e: unknown) => e);
    expect(err).toMatchObject({ errorCode: "ERROR_AUTHENTICATE_FAILURE", category: "AUTH_ERROR", shouldRetry: false });
  });
});

describe("the bin: node --import tsx plugins/collector-nutanix/src/main.ts serve|push", () => {
  const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
  const run = (args: string[], env: Record<string, string>) => spawn(process.execPath, ["--import", "tsx", "plugins/collector-nutanix/src/main.ts", ...args], { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });

  it("push runs one collection from the environment and prints its result", async () => {
    const urls = platformUrls(platform);
    const child = run(["push"], {
      LOG_LEVEL: "silent",
      IDENTITY_URL: urls.identity,
      INVENTORY_URL: urls.inventory,
      CLOUD_SERVICE_URL: urls.cloudService,
      COST_URL: urls.cost,
      MONITORING_URL: urls.monitoring,
      NOTIFICATION_URL: urls.notification,
      CLOUDFORET_DOMAIN_ID: "domain-default",
      CLOUDFORET_USER_ID: "admin",
      CLOUDFORET_API_KEY: apiKey,
      NUTANIX_COLLECTOR_ID: "collector-nutanix-push",
      NUTANIX_SERVICE_ACCOUNT_ID: "sa-push",
      NUTANIX_PRISM_URL: pushSim.url,
    });
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    expect(code).toBe(0);
    expect(JSON.parse(stdout.trim().split("\n").at(-1)!)).toMatchObject({ status: "FINISHED", createdCount: 0, updatedCount: pushTotal, errorCount: 0 });
  }, 60_000);

  it("serve answers inventory as a pull plugin", async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, "127.0.0.1", () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const child = run(["serve"], { LOG_LEVEL: "info", NUTANIX_PLUGIN_ADDR: `127.0.0.1:${port}` });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on("data", (chunk: Buffer) => chunk.toString().includes("plugin serving") && resolve());
        child.once("exit", (code) => reject(new Error(`serve exited with ${code}`)));
      });
      await collectors.create({ collectorId: "collector-nutanix-bin", name: "bin", provider: "nutanix", workspaceId: WS, pluginInfo: { endpoint: `http://127.0.0.1:${port}`, options: { prism_url: sim.url } } });
      expect(await collectors.verify({ collectorId: "collector-nutanix-bin", serviceAccountId: "sa-pull" })).toMatchObject({ success: true });
    } finally {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
  }, 60_000);
});
