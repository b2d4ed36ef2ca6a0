import { ApiKeyService } from "@cloudforet/proto/cloudforet/identity/v1/api_key_pb";
import { SecretService } from "@cloudforet/proto/cloudforet/identity/v1/secret_pb";
import { ServiceAccountService } from "@cloudforet/proto/cloudforet/identity/v1/service_account_pb";
import { WorkspaceService } from "@cloudforet/proto/cloudforet/identity/v1/workspace_pb";
import { CollectorService } from "@cloudforet/proto/cloudforet/inventory/v1/collector_pb";
import { Job_Status, JobService, type Job } from "@cloudforet/proto/cloudforet/inventory/v1/job_pb";
import { servePlugin, type ServedPlugin } from "@cloudforet/plugin-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger, nutanixPlugin, runPushCollection } from "../../plugins/collector-nutanix/src/index";
import type { TestPlatform } from "../support/platform";
import { startPrismSimulator, type PrismSimulator } from "../support/prism-simulator";
import { platformUrls, startNutanixPlatform } from "./nutanix-platform";

const logger = createLogger("silent");
const VMS = 1_000;
let platform: TestPlatform;
let sim: PrismSimulator;
let plugin: ServedPlugin;
let total: number;

beforeAll(async () => {
  sim = await startPrismSimulator({ seed: 5, clusters: 4, vms: VMS, subnets: 10 });
  total = sim.subnets.length + sim.vms.length + sim.diskCount;
  plugin = await servePlugin(nutanixPlugin(logger), { host: "127.0.0.1", port: 0 });
  platform = await startNutanixPlatform();
  await platform.client(WorkspaceService).create({ workspaceId: "ws-scale", name: "ws-scale" });
  const secret = await platform.client(SecretService).create({ name: "prism", workspaceId: "ws-scale", data: { nutanix_host: "prism.local", nutanix_username: sim.username, nutanix_password: sim.password } });
  for (const id of ["sa-scale-pull", "sa-scale-push"]) await platform.client(ServiceAccountService).create({ serviceAccountId: id, name: id, provider: "nutanix", workspaceId: "ws-scale", secretId: secret.secretId });
}, 120_000);

afterAll(async () => {
  await platform?.close();
  await plugin?.close();
  await sim?.close();
});

describe(`${VMS} VMs`, () => {
  it("pull and push each collect every resource exactly once", async () => {
    const collectors = platform.client(CollectorService);
    await collectors.create({ collectorId: "collector-scale-pull", name: "pull", provider: "nutanix", workspaceId: "ws-scale", pluginInfo: { endpoint: plugin.url, options: { prism_url: sim.url } } });
    let started = Date.now();
    const { jobId } = await collectors.collect({ collectorId: "collector-scale-pull", serviceAccountIds: ["sa-scale-pull"] });
    let job: Job | undefined;
    for await (const message of platform.client(JobService).watch({ jobId })) job = message.job;
    const pullMs = Date.now() - started;
    expect(job).toMatchObject({ status: Job_Status.FINISHED, createdCount: total, errorCount: 0 });

    await collectors.create({ collectorId: "collector-scale-push", name: "push", provider: "nutanix", workspaceId: "ws-scale", pluginInfo: {} });
    const apiKey = (await platform.client(ApiKeyService).create({ userId: "admin", name: "scale" })).apiKey;
    const push = (sa: string) =>
      runPushCollection({ urls: platformUrls(platform), domainId: "domain-default", userId: "admin", apiKey, collectorId: "collector-scale-push", serviceAccountId: sa, options: { prism_url: sim.url, batch_size: 500 }, logger });
    started = Date.now();
    const result = await push("sa-scale-push");
    const pushMs = Date.now() - started;
    // Same Prism as the pull collector: the push run finds (and updates) the resources pull created.
    expect(result).toMatchObject({ status: "FINISHED", createdCount: 0, updatedCount: total, errorCount: 0, costCount: VMS });
    process.stderr.write(`nutanix scale: ${total} resources; pull ${pullMs} ms; push (with ${result.costCount} costs, ${result.metricCount} metrics) ${pushMs} ms\n`);
  }, 300_000);
});
