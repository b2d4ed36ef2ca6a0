// Collector rules on push collections: cloud-service applies a collector's rules (then the domain's),
// read from inventory as the caller, to BatchUpsert items that name a collector_id and were not ruled
// by inventory's pull path (`collector_rules_applied`). A real push collection of the Prism simulator
// through the Nutanix plugin's runPushCollection; a pull collection through the same platform to show
// pull items are ruled once; and a cloud-service that cannot reach inventory fails push items with
// ERROR_SERVICE_UNAVAILABLE instead of writing them unruled.
import { toJson } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import type { Client } from "@connectrpc/connect";
import { cloudServiceModule } from "@cloudforet/cloud-service";
import { inventoryModule } from "@cloudforet/inventory";
import { servePlugin, type ServedPlugin } from "@cloudforet/plugin-sdk";
import { ChangeHistoryService, type ChangeHistory } from "@cloudforet/proto/cloudforet/cloud_service/v1/change_history_pb";
import { CloudServiceService, type CloudService } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_pb";
import { ApiKeyService } from "@cloudforet/proto/cloudforet/identity/v1/api_key_pb";
import { ProjectService } from "@cloudforet/proto/cloudforet/identity/v1/project_pb";
import { SecretService } from "@cloudforet/proto/cloudforet/identity/v1/secret_pb";
import { ServiceAccountService } from "@cloudforet/proto/cloudforet/identity/v1/service_account_pb";
import { WorkspaceService } from "@cloudforet/proto/cloudforet/identity/v1/workspace_pb";
import { CollectorService } from "@cloudforet/proto/cloudforet/inventory/v1/collector_pb";
import { CollectorRuleService } from "@cloudforet/proto/cloudforet/inventory/v1/collector_rule_pb";
import { Job_Status, JobService, type Job } from "@cloudforet/proto/cloudforet/inventory/v1/job_pb";
import { freePort } from "@cloudforet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger, nutanixPlugin, runPushCollection } from "../../plugins/collector-nutanix/src/index";
import { startPrismSimulator, type PrismSimulator } from "../support/prism-simulator";
import { startTestPlatform, type TestPlatform } from "../support/platform";

const logger = createLogger(process.env.TEST_LOG_LEVEL ?? "silent");
const WS = "ws-push-rules";
const text = (value: string) => ({ kind: { case: "stringValue" as const, value } });
const instanceType = { k: "cloud_service_type", v: text("compute.Instance") };

let platform: TestPlatform;
let pushSim: PrismSimulator;
let pullSim: PrismSimulator;
let plugin: ServedPlugin;
let resources: Client<typeof CloudServiceService>;
let history: Client<typeof ChangeHistoryService>;
let apiKey: string;

async function instancesOf(collectorId: string): Promise<CloudService[]> {
  return (await resources.list({ query: { filter: [instanceType, { k: "collector_id", v: text(collectorId) }], page: { limit: 100 } } })).results;
}

const changesOf = async (cloudServiceId: string): Promise<ChangeHistory[]> => (await history.list({ cloudServiceId })).results;
const ruleKeys = (changes: ChangeHistory[]) => changes.filter((c) => c.updatedBy === "RULE").flatMap((c) => c.diff.map((d) => `${c.authorId}:${d.key}`));

describe("collector rules on a push collection", () => {
  // This platform stops before the next describe starts its own cloud-service (one in-process bus each).
  beforeAll(async () => {
    pushSim = await startPrismSimulator({ seed: 31, clusters: 2, vms: 8, subnets: 2 });
    pullSim = await startPrismSimulator({ seed: 32, clusters: 1, vms: 4, subnets: 1 });
    plugin = await servePlugin(nutanixPlugin(logger), { host: "127.0.0.1", port: 0 });
    const port = await freePort();
    // startTestPlatform gives cloud-service inventory's URL (INVENTORY_URL): it reads push rules there.
    platform = await startTestPlatform({
      modules: [cloudServiceModule, inventoryModule],
      env: { CLOUD_SERVICE_ADDR: `127.0.0.1:${port}`, CLOUD_SERVICE_URL: `http://127.0.0.1:${port}` },
    });
    resources = platform.client(CloudServiceService);
    history = platform.client(ChangeHistoryService);
    await platform.client(WorkspaceService).create({ workspaceId: WS, name: WS });
    await platform.client(ProjectService).create({ projectId: "project-push", name: "Push", workspaceId: WS });
    await platform.client(ProjectService).create({ projectId: "project-pull", name: "Pull", workspaceId: WS });
    for (const [account, sim] of [["sa-push-rules", pushSim], ["sa-pull-rules", pullSim]] as const) {
      const secret = await platform.client(SecretService).create({ name: account, workspaceId: WS, data: { nutanix_host: "prism.nutanix.local", nutanix_username: sim.username, nutanix_password: sim.password } });
      await platform.client(ServiceAccountService).create({ serviceAccountId: account, name: account, provider: "nutanix", workspaceId: WS, secretId: secret.secretId });
    }
    const collectors = platform.client(CollectorService);
    await collectors.create({ collectorId: "collector-push-rules", name: "push", provider: "nutanix", workspaceId: WS, pluginInfo: {} });
    await collectors.create({ collectorId: "collector-pull-rules", name: "pull", provider: "nutanix", workspaceId: WS, pluginInfo: { endpoint: plugin.url, options: { prism_url: pullSim.url, page_size: 5 } } });
    const rules = platform.client(CollectorRuleService);
    await rules.create({ collectorRuleId: "cr-push", collectorId: "collector-push-rules", conditions: [instanceType], actions: { changeProject: "project-push", addTags: { source: "push-rule" } } });
    // A probe of a second pass: it matches only what a later rule already changed, so it sets its tag
    // only if the rules run twice over an item.
    await rules.create({ collectorRuleId: "cr-pull-probe", collectorId: "collector-pull-rules", conditions: [{ k: "tags.stage", v: text("ruled") }], actions: { addTags: { ruled_twice: "yes" } } });
    await rules.create({ collectorRuleId: "cr-pull", collectorId: "collector-pull-rules", conditions: [instanceType], actions: { changeProject: "project-pull", addTags: { source: "pull-rule", stage: "ruled" } } });
    await rules.create({ collectorRuleId: "cr-push-domain", conditionsPolicy: "ALWAYS", actions: { addTags: { managed_by: "cloudforet" } } });
    apiKey = (await platform.client(ApiKeyService).create({ userId: "admin", name: "push-rules" })).apiKey;
  }, 120_000);

  afterAll(async () => {
    await platform?.close();
    await plugin?.close();
    await pushSim?.close();
    await pullSim?.close();
  });

  it("a real push collection stores the resources with the project and tags its rules set", async () => {
    const result = await runPushCollection({
      urls: { identity: platform.url("identity"), inventory: platform.url("inventory"), cloudService: platform.url("cloud-service"), cost: "http://127.0.0.1:1", monitoring: "http://127.0.0.1:1", notification: "http://127.0.0.1:1" },
      domainId: "domain-default",
      userId: "admin",
      apiKey,
      collectorId: "collector-push-rules",
      serviceAccountId: "sa-push-rules",
      options: { prism_url: pushSim.url, page_size: 5, batch_size: 5, retry_base_delay_ms: 5, push_costs: false, push_metrics: false, notify: false },
      logger,
    });
    expect(result, result.errors.join("\n")).toMatchObject({ status: "FINISHED", errorCount: 0 });
    const vms = await instancesOf("collector-push-rules");
    expect(vms).toHaveLength(pushSim.vms.length);
    for (const vm of vms) expect(vm, vm.name).toMatchObject({ projectId: "project-push", workspaceId: WS, tags: { source: "push-rule", managed_by: "cloudforet" } });
    // Disks match only the domain rule.
    const disks = await resources.list({ query: { filter: [{ k: "cloud_service_type", v: text("compute.Disk") }, { k: "collector_id", v: text("collector-push-rules") }], page: { limit: 1 } } });
    expect(disks.results[0]).toMatchObject({ projectId: "", tags: { managed_by: "cloudforet" } });
    expect(disks.results[0].tags.source).toBeUndefined();
  }, 120_000);

  it("the change history names each rule as the author of the keys it set, and the push job's task for the rest", async () => {
    const [vm] = await instancesOf("collector-push-rules");
    const changes = await changesOf(vm.cloudServiceId);
    const byRule = changes.find((c) => c.authorId === "cr-push")!;
    expect(byRule).toMatchObject({ action: "CREATE", updatedBy: "RULE", collectorRuleId: "cr-push", collectorId: "collector-push-rules" });
    expect(byRule.diff.map((d) => [d.key, toJson(ValueSchema, d.after!)])).toEqual([
      ["project_id", "project-push"],
      ["tags.source", "push-rule"],
    ]);
    expect(changes.find((c) => c.authorId === "cr-push-domain")!.diff.map((d) => d.key)).toEqual(["tags.managed_by"]);
    const collected = changes.find((c) => c.updatedBy !== "RULE")!;
    expect(collected.diff.map((d) => d.key)).not.toContain("project_id");
    expect(collected.diff.map((d) => d.key)).not.toContain("tags.source");
    expect(ruleKeys(changes).sort()).toEqual(["cr-push-domain:tags.managed_by", "cr-push:project_id", "cr-push:tags.source"]);
  });

  it("an item marked as ruled by inventory is not ruled again; the same item unmarked is", async () => {
    const item = (name: string, collectorRulesApplied: boolean) => ({
      cloudServiceType: "compute.Instance",
      cloudServiceName: name,
      provider: "nutanix",
      reference: { resourceId: name },
      workspaceId: WS,
      collectorId: "collector-push-rules",
      collectorRulesApplied,
    });
    const answer = await resources.batchUpsert(
      (async function* () {
        yield { items: [item("vm-marked", true), item("vm-unmarked", false)] };
      })(),
    );
    expect(answer).toMatchObject({ createdCount: 2, failedCount: 0 });
    const byName = new Map((await instancesOf("collector-push-rules")).map((vm) => [vm.name, vm]));
    expect(byName.get("vm-marked")).toMatchObject({ projectId: "", tags: {} });
    expect(byName.get("vm-unmarked")).toMatchObject({ projectId: "project-push", tags: { source: "push-rule", managed_by: "cloudforet" } });
  });

  it("a pull collection is ruled once, by inventory: one rule entry per key", async () => {
    const started = await platform.client(CollectorService).collect({ collectorId: "collector-pull-rules", serviceAccountIds: ["sa-pull-rules"] });
    let job: Job | undefined;
    for await (const message of platform.client(JobService).watch({ jobId: started.jobId })) job = message.job;
    expect(job?.status).toBe(Job_Status.FINISHED);
    const vms = await instancesOf("collector-pull-rules");
    expect(vms).toHaveLength(pullSim.vms.length);
    for (const vm of vms) {
      expect(vm, vm.name).toMatchObject({ projectId: "project-pull", tags: { source: "pull-rule", stage: "ruled", managed_by: "cloudforet" } });
      expect(vm.tags.ruled_twice, vm.name).toBeUndefined();
      const changes = await changesOf(vm.cloudServiceId);
      expect(ruleKeys(changes).sort()).toEqual(["cr-pull:project_id", "cr-pull:tags.source", "cr-pull:tags.stage", "cr-push-domain:tags.managed_by"]);
      // Every change of the collection names the pull job (the push path's never does).
      expect(new Set(changes.map((c) => c.jobId))).toEqual(new Set([started.jobId]));
    }
  }, 120_000);
});

describe("when inventory cannot be reached", () => {
  let isolated: TestPlatform;
  beforeAll(async () => {
    // Nothing listens on port 1: cloud-service cannot read any collector rule.
    isolated = await startTestPlatform({ modules: [cloudServiceModule], env: { INVENTORY_URL: "http://127.0.0.1:1" } });
  }, 60_000);
  afterAll(async () => {
    await isolated?.close();
  });

  it("push items fail with ERROR_SERVICE_UNAVAILABLE and are not written; others are", async () => {
    const client = isolated.client(CloudServiceService);
    const base = { cloudServiceType: "compute.Instance", provider: "nutanix" };
    const answer = await client.batchUpsert(
      (async function* () {
        yield {
          items: [
            { ...base, cloudServiceName: "pushed", reference: { resourceId: "pushed" }, collectorId: "collector-x" },
            { ...base, cloudServiceName: "by-hand", reference: { resourceId: "by-hand" } },
            { ...base, cloudServiceName: "pulled", reference: { resourceId: "pulled" }, collectorId: "collector-x", collectorRulesApplied: true },
          ],
        };
      })(),
    );
    expect(answer).toMatchObject({ createdCount: 2, failedCount: 1 });
    expect(answer.errors).toEqual([expect.objectContaining({ index: 0, errorCode: "ERROR_SERVICE_UNAVAILABLE", resourceId: "pushed" })]);
    const names = (await client.list({ query: { page: { limit: 10 } } })).results.map((r) => r.name).sort();
    expect(names).toEqual(["by-hand", "pulled"]);
  }, 60_000);
});
