// Collector rules (issue 16): CRUD, ChangeOrder, dry run and validation of CollectorRuleService, and
// rules setting projects and tags during a real pull collection of the Nutanix simulator through the
// Nutanix plugin, with cloud-service's change history naming the rule as the author.
import type { JsonValue } from "@bufbuild/protobuf";
import { toJson } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { Code, type Client } from "@connectrpc/connect";
import { cloudServiceModule } from "@cloudforet/cloud-service";
import { decodeError } from "@cloudforet/errors";
import { inventoryModule } from "@cloudforet/inventory";
import { servePlugin, type ServedPlugin } from "@cloudforet/plugin-sdk";
import { ChangeHistoryService } from "@cloudforet/proto/cloudforet/cloud_service/v1/change_history_pb";
import { CloudServiceService, type CloudService } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_pb";
import { ProjectService } from "@cloudforet/proto/cloudforet/identity/v1/project_pb";
import { SecretService } from "@cloudforet/proto/cloudforet/identity/v1/secret_pb";
import { ServiceAccountService } from "@cloudforet/proto/cloudforet/identity/v1/service_account_pb";
import { WorkspaceService } from "@cloudforet/proto/cloudforet/identity/v1/workspace_pb";
import { CollectorService } from "@cloudforet/proto/cloudforet/inventory/v1/collector_pb";
import { CollectorRuleService } from "@cloudforet/proto/cloudforet/inventory/v1/collector_rule_pb";
import { Job_Status, JobService, type Job } from "@cloudforet/proto/cloudforet/inventory/v1/job_pb";
import { freePort } from "@cloudforet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger, nutanixPlugin } from "../../plugins/collector-nutanix/src/index";
import { startPrismSimulator, type PrismSimulator } from "../support/prism-simulator";
import { startTestPlatform, type TestPlatform } from "../support/platform";
import { ApiKeyService } from "@cloudforet/proto/cloudforet/identity/v1/api_key_pb";
import { runCfctl, tempConfigDir } from "../cli/support";

const logger = createLogger(process.env.TEST_LOG_LEVEL ?? "silent");
const WS = "ws-rules";
const PROD = "cluster-prod-01";
const DEV = "cluster-dev-02";
const text = (value: string) => ({ kind: { case: "stringValue" as const, value } });
const failure = (promise: Promise<unknown>) => promise.then(() => expect.fail("expected an error"), (err) => decodeError(err));

let platform: TestPlatform;
let sim: PrismSimulator;
let plugin: ServedPlugin;
let rules: Client<typeof CollectorRuleService>;
let resources: Client<typeof CloudServiceService>;
let history: Client<typeof ChangeHistoryService>;

beforeAll(async () => {
  sim = await startPrismSimulator({ seed: 16, clusters: 2, vms: 10, subnets: 2 });
  plugin = await servePlugin(nutanixPlugin(logger), { host: "127.0.0.1", port: 0 });
  const port = await freePort();
  platform = await startTestPlatform({
    modules: [cloudServiceModule, inventoryModule],
    env: { CLOUD_SERVICE_ADDR: `127.0.0.1:${port}`, CLOUD_SERVICE_URL: `http://127.0.0.1:${port}` },
  });
  rules = platform.client(CollectorRuleService);
  resources = platform.client(CloudServiceService);
  history = platform.client(ChangeHistoryService);
  await platform.client(WorkspaceService).create({ workspaceId: WS, name: WS });
  await platform.client(ProjectService).create({ projectId: "project-prod", name: "Prod", workspaceId: WS });
  await platform.client(ProjectService).create({ projectId: "project-dev", name: "Dev", workspaceId: WS });
  const secret = await platform.client(SecretService).create({
    name: "prism-rules",
    workspaceId: WS,
    data: { nutanix_host: "prism.nutanix.local", nutanix_username: sim.username, nutanix_password: sim.password },
  });
  await platform.client(ServiceAccountService).create({ serviceAccountId: "sa-rules", name: "sa-rules", provider: "nutanix", workspaceId: WS, secretId: secret.secretId });
  await platform.client(CollectorService).create({ collectorId: "collector-rules", name: "rules", provider: "nutanix", workspaceId: WS, pluginInfo: { endpoint: plugin.url, options: { prism_url: sim.url, page_size: 5 } } });
  await platform.client(CollectorService).create({ collectorId: "collector-other", name: "other", provider: "nutanix", workspaceId: WS });
}, 120_000);

afterAll(async () => {
  await platform?.close();
  await plugin?.close();
  await sim?.close();
});

const orderOf = async (collectorId: string) =>
  (await rules.list({ query: { filter: [{ k: "collector_id", v: text(collectorId) }] } })).results.map((r) => `${r.order}:${r.collectorRuleId}`);

describe("CRUD and ChangeOrder", () => {
  it("Create appends to the collector's order; Get and List answer the rule as stored", async () => {
    const a = await rules.create({ collectorRuleId: "cr-a", name: "a", collectorId: "collector-other", actions: { addTags: { a: "1" } } });
    const b = await rules.create({ collectorRuleId: "cr-b", name: "b", collectorId: "collector-other", conditions: [{ k: "data.cluster", v: text(PROD), o: "eq" }], actions: { changeProject: "project-prod" }, stopProcessing: true });
    const c = await rules.create({ name: "c", collectorId: "collector-other", conditionsPolicy: "ANY", conditions: [{ k: "tags.env", v: text("x") }], actions: { changeData: { owner: "ops" } } });
    expect([a.rule?.order, b.rule?.order, c.rule?.order]).toEqual([1, 2, 3]);
    expect(c.rule?.collectorRuleId).toMatch(/^cr-/);
    expect(b.rule).toMatchObject({ collectorId: "collector-other", workspaceId: WS, conditionsPolicy: "ALL", stopProcessing: true, actions: { changeProject: "project-prod" } });
    const got = await rules.get({ collectorRuleId: "cr-b" });
    expect(got.rule?.conditions.map((f) => [f.k, toJson(ValueSchema, f.v!), f.o])).toEqual([["data.cluster", PROD, "eq"]]);
    const listed = await rules.list({ query: { filter: [{ k: "collector_id", v: text("collector-other") }] } });
    expect(listed.totalCount).toBe(3);
    expect(listed.results[2]).toMatchObject({ name: "c", conditionsPolicy: "ANY", actions: { changeData: { owner: "ops" } } });
    const paged = await rules.list({ query: { filter: [{ k: "collector_id", v: text("collector-other") }], page: { start: 1, limit: 1 } } });
    expect(paged.results.map((r) => r.collectorRuleId)).toEqual(["cr-b"]);
    expect(paged.totalCount).toBe(3);
  });

  it("ChangeOrder moves a rule and shifts the others; Delete closes the gap", async () => {
    const cId = (await orderOf("collector-other"))[2].split(":")[1];
    const moved = await rules.changeOrder({ collectorRuleId: cId, order: 1 });
    expect(moved.rule?.order).toBe(1);
    expect(await orderOf("collector-other")).toEqual([`1:${cId}`, "2:cr-a", "3:cr-b"]);
    await rules.changeOrder({ collectorRuleId: cId, order: 3 });
    expect(await orderOf("collector-other")).toEqual(["1:cr-a", "2:cr-b", `3:${cId}`]);
    await rules.delete({ collectorRuleId: "cr-a" });
    expect(await orderOf("collector-other")).toEqual(["1:cr-b", `2:${cId}`]);
    const outOfRange = await failure(rules.changeOrder({ collectorRuleId: "cr-b", order: 3 }));
    expect(outOfRange).toMatchObject({ grpcCode: Code.InvalidArgument, code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "order" } });
    expect(await failure(rules.delete({ collectorRuleId: "cr-a" }))).toMatchObject({ grpcCode: Code.NotFound, code: "ERROR_NOT_FOUND" });
  });

  it("Update changes the fields that are set", async () => {
    const updated = await rules.update({ collectorRuleId: "cr-b", name: "b2", updateConditions: true, conditions: [{ k: "data.cluster", v: text(DEV) }], stopProcessing: false });
    expect(updated.rule).toMatchObject({ name: "b2", stopProcessing: false, order: 1, actions: { changeProject: "project-prod" } });
    expect(updated.rule?.conditions.map((f) => toJson(ValueSchema, f.v!))).toEqual([DEV]);
  });

  it("refuses bad input with INVALID_ARGUMENT naming the field, unknown ids with NOT_FOUND", async () => {
    const cases: [() => Promise<unknown>, string][] = [
      [() => rules.create({ collectorId: "collector-other", conditions: [{ k: "data.x", v: text("1"), o: "sideways" }], actions: { addTags: { a: "1" } } }), "conditions[0]"],
      [() => rules.create({ collectorId: "collector-other", conditions: [{ k: "provider", v: text("x") }, { k: "state", v: text("x") }], actions: { addTags: { a: "1" } } }), "conditions[1]"],
      [() => rules.create({ collectorId: "collector-other", conditions: [{ k: "data.x", v: text("1"), o: "in" }], actions: { addTags: { a: "1" } } }), "conditions[0]"],
      [() => rules.create({ collectorId: "collector-other", conditionsPolicy: "SOMETIMES", actions: { addTags: { a: "1" } } }), "conditions_policy"],
      [() => rules.create({ collectorId: "collector-other" }), "actions"],
      [() => rules.create({ collectorId: "collector-other", actions: {} }), "actions"],
      [() => rules.create({ collectorId: "collector-other", actions: { changeData: { "bad key": 1 } } }), "actions.change_data"],
      [() => rules.create({ collectorId: "collector-other", actions: { changeProject: "no spaces allowed" } }), "actions.change_project"],
      [() => rules.create({ collectorRuleId: "bad id!", collectorId: "collector-other", actions: { addTags: { a: "1" } } }), "collector_rule_id"],
      [() => rules.changeOrder({ collectorRuleId: "cr-b", order: 0 }), "order"],
      [() => rules.get({ collectorRuleId: "" }), "collector_rule_id"],
    ];
    for (const [call, parameter] of cases) {
      expect(await failure(call()), parameter).toMatchObject({ grpcCode: Code.InvalidArgument, code: "ERROR_INVALID_PARAMETER", metadata: { parameter } });
    }
    expect(await failure(rules.create({ collectorId: "collector-missing", actions: { addTags: { a: "1" } } }))).toMatchObject({ grpcCode: Code.NotFound, metadata: { collector_id: "collector-missing" } });
    expect(await failure(rules.get({ collectorRuleId: "cr-missing" }))).toMatchObject({ grpcCode: Code.NotFound });
  });

  it("domain rules are for domain admins; a workspace owner manages the collector's rules", async () => {
    const owner = await platform.createWorkspaceUser(platform.admin, "rules-owner", "WORKSPACE_OWNER", WS);
    const asOwner = platform.client(CollectorRuleService, owner);
    expect(await failure(asOwner.create({ actions: { addTags: { a: "1" } } }))).toMatchObject({ grpcCode: Code.PermissionDenied });
    const mine = await asOwner.create({ collectorId: "collector-other", actions: { addTags: { owner: "yes" } } });
    expect(mine.rule?.order).toBe(3);
    await asOwner.delete({ collectorRuleId: mine.rule!.collectorRuleId });
  });
});

async function pull(collectorId: string): Promise<Job> {
  const started = await platform.client(CollectorService).collect({ collectorId, serviceAccountIds: ["sa-rules"] });
  let job: Job | undefined;
  for await (const message of platform.client(JobService).watch({ jobId: started.jobId })) job = message.job;
  return job!;
}

async function instances(): Promise<CloudService[]> {
  const answer = await resources.list({ query: { filter: [{ k: "cloud_service_type", v: text("compute.Instance") }, { k: "collector_id", v: text("collector-rules") }], page: { limit: 100 } } });
  return answer.results;
}

describe("rules during a real pull collection", () => {
  it("set projects and tags on what they match, in order, stopping where a rule says so", async () => {
    await rules.create({ collectorRuleId: "cr-prod", collectorId: "collector-rules", conditions: [{ k: "data.cluster", v: text(PROD) }, { k: "cloud_service_type", v: text("compute.Instance") }], actions: { changeProject: "project-prod", addTags: { tier: "prod" } }, stopProcessing: true });
    await rules.create({ collectorRuleId: "cr-dev", collectorId: "collector-rules", conditions: [{ k: "tags.cluster", v: text(DEV) }, { k: "cloud_service_type", v: text("compute.Instance") }], actions: { changeProject: "project-dev", addTags: { tier: "dev" } } });
    // A domain rule: applies after the collector's, unless one of those stopped the walk.
    await rules.create({ collectorRuleId: "cr-domain", conditionsPolicy: "ALWAYS", actions: { addTags: { managed_by: "cloudforet" } } });

    const job = await pull("collector-rules");
    expect(job.status).toBe(Job_Status.FINISHED);
    const vms = await instances();
    expect(vms).toHaveLength(sim.vms.length);
    for (const vm of vms) {
      const cluster = (vm.data as Record<string, JsonValue>).cluster;
      if (cluster === PROD) {
        expect(vm, vm.name).toMatchObject({ projectId: "project-prod", tags: { tier: "prod" } });
        expect(vm.tags.managed_by).toBeUndefined();
      } else {
        expect(vm, vm.name).toMatchObject({ projectId: "project-dev", tags: { tier: "dev", managed_by: "cloudforet" } });
      }
    }
    expect(vms.filter((vm) => vm.projectId === "project-prod").length).toBe(sim.vms.filter((_, i) => i % 2 === 0).length);
    // Disks and networks match no collector rule: only the domain rule.
    const disks = await resources.list({ query: { filter: [{ k: "cloud_service_type", v: text("compute.Disk") }], page: { limit: 1 } } });
    expect(disks.results[0]).toMatchObject({ projectId: "", tags: { managed_by: "cloudforet" } });
  }, 120_000);

  it("the change history names the rule as the author of the keys it set, and the job for the rest", async () => {
    const vm = (await instances()).find((v) => v.projectId === "project-dev")!;
    const changes = (await history.list({ cloudServiceId: vm.cloudServiceId })).results;
    const byRule = changes.find((c) => c.authorId === "cr-dev")!;
    expect(byRule).toMatchObject({ action: "CREATE", updatedBy: "RULE", collectorRuleId: "cr-dev", collectorId: "collector-rules" });
    expect(byRule.diff.map((d) => [d.key, toJson(ValueSchema, d.after!)])).toEqual([
      ["project_id", "project-dev"],
      ["tags.tier", "dev"],
    ]);
    const byDomainRule = changes.find((c) => c.authorId === "cr-domain")!;
    expect(byDomainRule.diff.map((d) => d.key)).toEqual(["tags.managed_by"]);
    const byJob = changes.find((c) => c.updatedBy === "COLLECTOR")!;
    expect(byJob.jobId).toBe(byRule.jobId);
    expect(byJob.authorId).toBe(byJob.jobId);
    expect(byJob.jobId).toMatch(/\S/);
    expect(byJob.diff.map((d) => d.key)).toContain("data.cluster");
    expect(byJob.diff.map((d) => d.key)).not.toContain("project_id");
  });

  it("a rule changed between collections changes the resources at the next one, recorded as the rule's update", async () => {
    await rules.update({ collectorRuleId: "cr-dev", actions: { changeProject: "project-dev", addTags: { tier: "development" } } });
    const job = await pull("collector-rules");
    expect(job.status).toBe(Job_Status.FINISHED);
    const vm = (await instances()).find((v) => v.projectId === "project-dev")!;
    expect(vm.tags.tier).toBe("development");
    const updates = (await history.list({ cloudServiceId: vm.cloudServiceId, query: { filter: [{ k: "action", v: text("UPDATE") }] } })).results;
    expect(updates).toHaveLength(1);
    expect(updates[0]).toMatchObject({ updatedBy: "RULE", authorId: "cr-dev" });
    expect(updates[0].diff.map((d) => [d.key, toJson(ValueSchema, d.before!), toJson(ValueSchema, d.after!)])).toEqual([["tags.tier", "dev", "development"]]);
  }, 120_000);

  it("a dry run lists which existing resources a rule would change and how, and changes nothing", async () => {
    const created = await rules.create({ collectorRuleId: "cr-owner", collectorId: "collector-rules", conditions: [{ k: "data.cluster", v: text(PROD) }, { k: "cloud_service_type", v: text("compute.Instance") }], actions: { changeData: { owner: "ops" }, changeProject: "project-prod" } });
    expect(created.rule?.order).toBe(3);
    const prodVms = (await instances()).filter((v) => (v.data as Record<string, JsonValue>).cluster === PROD);
    const dry = await rules.dryRun({ collectorRuleId: "cr-owner", page: { limit: 100 } });
    expect(dry.matchedCount).toBe(prodVms.length);
    expect(dry.results.map((r) => r.cloudServiceId).sort()).toEqual(prodVms.map((v) => v.cloudServiceId).sort());
    for (const result of dry.results) {
      const vm = prodVms.find((v) => v.cloudServiceId === result.cloudServiceId)!;
      // project_id is already project-prod: only data.owner changes.
      expect(result.changes.map((c) => [c.key, toJson(ValueSchema, c.before!), toJson(ValueSchema, c.after!)])).toEqual([["data.owner", (vm.data as Record<string, JsonValue>).owner ?? null, "ops"]]);
    }
    const page = await rules.dryRun({ collectorRuleId: "cr-owner", page: { start: 0, limit: 1 } });
    expect(page.results).toHaveLength(1);
    expect(page.matchedCount).toBe(prodVms.length);
    const after = (await instances()).filter((v) => (v.data as Record<string, JsonValue>).cluster === PROD);
    expect(after.every((v) => (v.data as Record<string, JsonValue>).owner !== "ops")).toBe(true);
    expect(await failure(rules.dryRun({ collectorRuleId: "cr-owner", page: { limit: 5000 } }))).toMatchObject({ grpcCode: Code.InvalidArgument, metadata: { parameter: "page.limit" } });
  });
});

describe("cfctl", () => {
  let env: Record<string, string>;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    const config = await tempConfigDir();
    cleanup = config.cleanup;
    const { apiKey } = await platform.client(ApiKeyService).create({ userId: "admin", name: "cfctl-rules" });
    env = {
      CFCTL_CONFIG: config.path,
      CLOUDFORET_API_KEY: apiKey,
      CLOUDFORET_USER_ID: "admin",
      CLOUDFORET_DOMAIN_ID: "domain-default",
      CLOUDFORET_IDENTITY_URL: platform.url("identity"),
      CLOUDFORET_INVENTORY_URL: platform.url("inventory"),
      CLOUDFORET_CLOUD_SERVICE_URL: platform.url("cloud-service"),
    };
  });
  afterAll(async () => cleanup?.());

  const rule = (tier: string) => `kind: CollectorRule
metadata:
  name: cr-cli
spec:
  name: from cfctl
  collector_id: collector-other
  conditions_policy: ANY
  conditions:
    - {k: data.cluster, v: ${PROD}, o: eq}
  actions:
    add_tags: {tier: ${tier}}
`;

  it("apply -f creates a collector rule, finds it unchanged, then updates what changed", async () => {
    const first = await runCfctl(["apply", "-f", "-"], env, rule("gold"));
    expect(first.stderr).toBe("");
    expect(first.stdout).toBe("collector-rule/cr-cli created\n");
    expect((await runCfctl(["apply", "-f", "-"], env, rule("gold"))).stdout).toBe("collector-rule/cr-cli unchanged\n");
    expect((await runCfctl(["apply", "-f", "-"], env, rule("silver"))).stdout).toBe("collector-rule/cr-cli updated\n");
    const stored = await rules.get({ collectorRuleId: "cr-cli" });
    expect(stored.rule).toMatchObject({ collectorId: "collector-other", conditionsPolicy: "ANY", actions: { addTags: { tier: "silver" } } });
    expect(stored.rule?.conditions.map((f) => [f.k, toJson(ValueSchema, f.v!), f.o])).toEqual([["data.cluster", PROD, "eq"]]);
  }, 60_000);

  it("list changes --resource shows one resource's history", async () => {
    const vm = (await instances()).find((v) => v.projectId === "project-dev")!;
    const run = await runCfctl(["list", "changes", "--resource", vm.cloudServiceId, "-o", "json"], env);
    expect(run.stderr).toBe("");
    const listed = JSON.parse(run.stdout) as { cloud_service_id: string; updated_by: string; author_id: string }[];
    const expected = (await history.list({ cloudServiceId: vm.cloudServiceId })).results;
    expect(listed.length).toBe(expected.length);
    expect(listed.every((c) => c.cloud_service_id === vm.cloudServiceId)).toBe(true);
    expect(listed.filter((c) => c.updated_by === "RULE").map((c) => c.author_id).sort()).toEqual(expected.filter((c) => c.updatedBy === "RULE").map((c) => c.authorId).sort());
  }, 60_000);
});
