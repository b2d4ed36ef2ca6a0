import type { Client } from "@connectrpc/connect";
import { Code } from "@connectrpc/connect";
import { cloudServiceModule } from "@cloudforet/cloud-service";
import { decodeError } from "@cloudforet/errors";
import { CloudServiceService } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_pb";
import { ProjectService } from "@cloudforet/proto/cloudforet/identity/v1/project_pb";
import { WorkspaceService } from "@cloudforet/proto/cloudforet/identity/v1/workspace_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPlatform, type TestPlatform } from "../support/platform";
import { postJson, seedError } from "./connect-json";

let platform: TestPlatform;
let client: Client<typeof CloudServiceService>;
const failure = (promise: Promise<unknown>) => promise.then(() => expect.fail("expected an error"), (err) => decodeError(err));
const createProcedure = "cloudforet.cloud_service.v1.CloudServiceService/Create";

/** Seed 000 "Create Cloud Service", verbatim. */
const seedCreateRequest = {
  cloud_service_type: "compute.Instance",
  cloud_service_group: "Nutanix",
  cloud_service_name: "prod-web-server-01",
  provider: "nutanix",
  account: "sa-prod-cluster-01",
  data: {
    state: "ON",
    cpu_cores: 8,
    memory_gb: 32,
    disk_total_gb: 500,
    cluster: "cluster-prod-01",
    created_at: "2023-06-15T08:30:00Z",
    updated_at: "2024-01-10T14:20:00Z",
    nutanix_uuid: "vm-abc123def456",
    power_state: "ON",
    vcpu_count: 8,
    numa_node_count: 1,
    hypervisor_type: "AHV",
    network_interfaces: 3,
    disk_count: 4,
  },
  tags: {
    environment: "production",
    owner: "devops-team",
    department: "infrastructure",
    cost_center: "CC-001",
    cluster: "cluster-prod-01",
  },
  reference: {
    resource_id: "vm-abc123def456",
    external_link: "https://prism.local/console/#page/vm_details/vm-abc123def456",
  },
  project_id: "project-prod-001",
};

beforeAll(async () => {
  platform = await startTestPlatform({ modules: [cloudServiceModule], env: { IDENTITY_SECRET_KEYS: process.env.IDENTITY_SECRET_KEYS ?? "test:BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=" } });
  client = platform.client(CloudServiceService);
  await platform.client(WorkspaceService).create({ workspaceId: "ws-prod", name: "Production" });
  await platform.client(ProjectService).create({ projectId: "project-prod-001", name: "Prod", workspaceId: "ws-prod" });
});

afterAll(async () => {
  await platform?.close();
});

describe("seed 000: Create Cloud Service", () => {
  it("answers exactly the seed's response", async () => {
    const answer = await postJson(platform.url("cloud-service"), createProcedure, seedCreateRequest, platform.admin);
    expect(answer.status).toBe(200);
    expect(Object.keys(answer.body).sort()).toEqual(
      ["cloud_service_id", "name", "cloud_service_type", "cloud_service_group", "provider", "account", "state", "created_at", "updated_at"].sort(),
    );
    expect(answer.body).toMatchObject({
      name: "prod-web-server-01",
      cloud_service_type: "compute.Instance",
      cloud_service_group: "Nutanix",
      provider: "nutanix",
      account: "sa-prod-cluster-01",
      state: "ON",
    });
    expect(answer.body.cloud_service_id).toMatch(/^cs-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(answer.body.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    expect(answer.body.updated_at).toBe(answer.body.created_at);
    const stored = await client.get({ cloudServiceId: answer.body.cloud_service_id as string });
    expect(stored).toMatchObject({ workspaceId: "ws-prod", projectId: "project-prod-001", domainId: "domain-default", reference: { resourceId: "vm-abc123def456" } });
    expect(stored.data).toEqual(seedCreateRequest.data);
    expect(stored.tags).toEqual(seedCreateRequest.tags);
  });

  it("Case 1: a duplicate resource is ERROR_CONFLICT with resource_id", async () => {
    const answer = await postJson(platform.url("cloud-service"), createProcedure, seedCreateRequest, platform.admin);
    expect(answer.status).toBe(409);
    expect(seedError(answer)).toEqual({ code: "ERROR_CONFLICT", message: "Resource already exists", resource_id: "vm-abc123def456" });
    expect(await failure(client.create({ ...fromSeed(seedCreateRequest) }))).toMatchObject({ grpcCode: Code.AlreadyExists });
  });

  it("Case 2: an unknown cloud service type is ERROR_INVALID_PARAMETER with parameter and value", async () => {
    const answer = await postJson(platform.url("cloud-service"), createProcedure, { ...seedCreateRequest, cloud_service_type: "compute.InvalidType" }, platform.admin);
    expect(answer.status).toBe(400);
    expect(seedError(answer)).toEqual({ code: "ERROR_INVALID_PARAMETER", message: "Unknown cloud service type", parameter: "cloud_service_type", value: "compute.InvalidType" });
  });

  it("Case 3: a missing required field is ERROR_INVALID_PARAMETER naming it", async () => {
    const { provider: _provider, ...withoutProvider } = seedCreateRequest;
    const answer = await postJson(platform.url("cloud-service"), createProcedure, withoutProvider, platform.admin);
    expect(answer.status).toBe(400);
    expect(seedError(answer)).toEqual({ code: "ERROR_INVALID_PARAMETER", message: "Missing required field", parameter: "provider" });
    for (const field of ["cloud_service_type", "cloud_service_name"] as const) {
      const { [field]: _omitted, ...rest } = seedCreateRequest;
      const missing = await postJson(platform.url("cloud-service"), createProcedure, { ...rest, reference: { resource_id: `x-${field}` } }, platform.admin);
      expect(seedError(missing)).toMatchObject({ code: "ERROR_INVALID_PARAMETER", parameter: field });
    }
  });

  it("takes state from data.state, ACTIVE without it, and refuses a project it cannot see", async () => {
    const active = await client.create({ ...fromSeed(seedCreateRequest), data: { cpu_cores: 1 }, reference: { resourceId: "vm-no-state" } });
    expect(active.state).toBe("ACTIVE");
    expect(await failure(client.create({ ...fromSeed(seedCreateRequest), reference: { resourceId: "vm-p" }, projectId: "project-missing" }))).toMatchObject({
      code: "ERROR_INVALID_PARAMETER",
      metadata: { parameter: "project_id" },
    });
  });
});

/** The seed's JSON as the generated client's camelCase input. */
function fromSeed(request: typeof seedCreateRequest) {
  return {
    cloudServiceType: request.cloud_service_type,
    cloudServiceGroup: request.cloud_service_group,
    cloudServiceName: request.cloud_service_name,
    provider: request.provider,
    account: request.account,
    data: request.data,
    tags: request.tags,
    reference: { resourceId: request.reference.resource_id, externalLink: request.reference.external_link },
    projectId: request.project_id,
  };
}

describe("Update, Get, Delete", () => {
  it("merges data and tags, removes null keys and listed tags, leaves the rest untouched", async () => {
    const created = await client.create({ ...fromSeed(seedCreateRequest), reference: { resourceId: "vm-update" } });
    const updated = await client.update({
      cloudServiceId: created.cloudServiceId,
      data: { memory_gb: 64, disk_count: null, new_key: "x" },
      tags: { owner: "sre" },
      removeTags: ["cost_center"],
    });
    expect(updated.data).toEqual({ ...seedCreateRequest.data, memory_gb: 64, new_key: "x", disk_count: undefined });
    expect(Object.hasOwn(updated.data ?? {}, "disk_count")).toBe(false);
    expect(updated.tags).toEqual({ environment: "production", owner: "sre", department: "infrastructure", cluster: "cluster-prod-01" });
    expect(updated).toMatchObject({ name: "prod-web-server-01", state: "ON", cloudServiceGroup: "Nutanix", projectId: "project-prod-001" });
    const off = await client.update({ cloudServiceId: created.cloudServiceId, data: { state: "OFF" } });
    expect(off.state).toBe("OFF");
    const renamed = await client.update({ cloudServiceId: created.cloudServiceId, name: "renamed", state: "MAINTENANCE" });
    expect(renamed).toMatchObject({ name: "renamed", state: "MAINTENANCE" });
    expect(await failure(client.update({ cloudServiceId: created.cloudServiceId, state: "DELETED" }))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "state" } });
    expect(await failure(client.update({ cloudServiceId: "cs-missing" }))).toMatchObject({ code: "ERROR_NOT_FOUND", metadata: { cloud_service_id: "cs-missing" } });
  });

  it("soft-deletes: Get still shows it DELETED with deleted_at, List hides it unless asked about state", async () => {
    const created = await client.create({ ...fromSeed(seedCreateRequest), reference: { resourceId: "vm-delete" }, cloudServiceName: "to-delete" });
    await client.delete({ cloudServiceId: created.cloudServiceId });
    const gone = await client.get({ cloudServiceId: created.cloudServiceId });
    expect(gone.state).toBe("DELETED");
    expect(gone.deletedAt).toBeDefined();
    await client.delete({ cloudServiceId: created.cloudServiceId }); // deleting again changes nothing
    expect((await client.get({ cloudServiceId: created.cloudServiceId })).deletedAt).toEqual(gone.deletedAt);
    const byName = { filter: [{ k: "name", v: { kind: { case: "stringValue" as const, value: "to-delete" } } }] };
    expect((await client.list({ query: byName })).totalCount).toBe(0);
    const asked = await client.list({ query: { filter: [...byName.filter, { k: "state", v: { kind: { case: "stringValue" as const, value: "DELETED" } } }] } });
    expect(asked.totalCount).toBe(1);
    // The key is free again for a new live resource.
    const again = await client.create({ ...fromSeed(seedCreateRequest), reference: { resourceId: "vm-delete" } });
    expect(again.cloudServiceId).not.toBe(created.cloudServiceId);
    expect(await failure(client.delete({ cloudServiceId: "cs-missing" }))).toMatchObject({ code: "ERROR_NOT_FOUND" });
    expect(await failure(client.get({ cloudServiceId: "" }))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "cloud_service_id" } });
  });
});

describe("Upsert and BatchUpsert", () => {
  const item = (id: string, extra: Record<string, unknown> = {}) => ({
    cloudServiceType: "compute.Disk",
    cloudServiceName: `disk-${id}`,
    provider: "nutanix",
    account: "sa-prod-cluster-01",
    data: { size_gb: 10 },
    reference: { resourceId: `disk-${id}` },
    ...extra,
  });

  it("creates, then updates the resource its match rule finds (data replaced, tags merged)", async () => {
    const first = await client.upsert({ ...item("u1"), tags: { a: "1" } });
    expect(first).toMatchObject({ created: true, state: "ACTIVE", workspaceId: "" });
    const second = await client.upsert({ ...item("u1"), data: { size_gb: 20, state: "ATTACHED" }, tags: { b: "2" }, collectorId: "collector-x", jobTaskId: "task-x", collectorRulesApplied: true });
    expect(second).toMatchObject({ created: false, cloudServiceId: first.cloudServiceId, state: "ATTACHED", data: { size_gb: 20, state: "ATTACHED" }, tags: { a: "1", b: "2" }, collectorId: "collector-x" });
    expect(second.lastCollectedAt).toBeDefined();
  });

  it("refuses a rule that matches more than one resource", async () => {
    await client.upsert(item("m1", { data: { serial: "same" } }));
    await client.upsert(item("m2", { data: { serial: "same" } }));
    expect(await failure(client.upsert(item("m3", { data: { serial: "same" }, matchRules: [{ keys: ["data.serial"] }] })))).toMatchObject({
      code: "ERROR_INVALID_PARAMETER",
      metadata: { parameter: "match_rules[0]" },
    });
    expect(await failure(client.upsert(item("m4", { matchRules: [{ keys: ["bogus"] }] })))).toMatchObject({ metadata: { parameter: "match_rules[0]", value: "bogus" } });
  });

  it("counts a client stream of items; one bad item fails alone with its index", async () => {
    async function* stream() {
      yield { items: [item("b1"), item("b2")] };
      yield { items: [item("b3", { cloudServiceType: "compute.Nope" }), item("b1", { data: { size_gb: 99 } })] };
      yield { items: Array.from({ length: 1100 }, (_, i) => item(`bulk-${i}`)) };
      yield { items: [item("b4", { provider: "" })] };
    }
    const answer = await client.batchUpsert(stream());
    expect(answer).toMatchObject({ createdCount: 1102, updatedCount: 1, failedCount: 2 });
    expect(answer.errors).toEqual([
      expect.objectContaining({ index: 2, errorCode: "ERROR_INVALID_PARAMETER", resourceId: "disk-b3" }),
      expect.objectContaining({ index: 1104, errorCode: "ERROR_INVALID_PARAMETER", resourceId: "disk-b4" }),
    ]);
    expect(answer.errors[1].message).toContain("provider");
    const again = await client.batchUpsert((async function* () {
      yield { items: Array.from({ length: 1100 }, (_, i) => item(`bulk-${i}`)) };
    })());
    expect(again).toMatchObject({ createdCount: 0, updatedCount: 1100, failedCount: 0 });
  });

  it("keeps a stream's order across the chunks it writes at once: a resource named again in a later chunk ends as the later item says", async () => {
    // Chunks of 500 are written two at a time: item i and item 500 + i fall in neighbouring chunks.
    const size = 1600;
    const resourceOf = (i: number) => `order-${i % 700}`;
    const answer = await client.batchUpsert(
      (async function* () {
        for (let from = 0; from < size; from += 400) {
          yield {
            items: Array.from({ length: 400 }, (_, k) => {
              const i = from + k;
              return i % 333 === 7 ? item(resourceOf(i), { provider: "" }) : item(resourceOf(i), { data: { size_gb: i } });
            }),
          };
        }
      })(),
    );
    const bad = Array.from({ length: size }, (_, i) => i).filter((i) => i % 333 === 7);
    const written = Array.from({ length: size }, (_, i) => i).filter((i) => i % 333 !== 7);
    const lastOf = new Map(written.map((i) => [resourceOf(i), i]));
    expect(answer).toMatchObject({ createdCount: lastOf.size, updatedCount: written.length - lastOf.size, failedCount: bad.length });
    expect(answer.errors.map((e) => e.index)).toEqual(bad); // in stream order, whichever chunk finished first
    const { results } = await client.list({ query: { filter: [{ k: "name", o: "contain", v: { kind: { case: "stringValue", value: "disk-order-" } } }], page: { limit: 1000 } } });
    expect(results).toHaveLength(lastOf.size);
    for (const row of results) expect(row.data).toEqual({ size_gb: lastOf.get(row.name.slice("disk-".length)) });
  });
});

/** Builds the data set of the seed's Query and Statistics examples. */
async function seedInventory(as = client) {
  const resources: Record<string, unknown>[] = [];
  const add = (name: string, account: string, state: string, environment: string, data: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    resources.push({
      cloudServiceType: "compute.Instance",
      cloudServiceGroup: "Nutanix",
      cloudServiceName: name,
      provider: "nutanix",
      account,
      data: { state, ...data },
      tags: { environment },
      reference: { resourceId: `vm-${name}` },
      ...extra,
    });
  const two = (n: number) => String(n).padStart(2, "0");
  // cluster-prod-01, ON: 42 resources, average 12.5 cores and 48 GB, 21,000 GB of disk.
  for (let i = 1; i <= 42; i++) {
    const cores = i === 42 ? 37 : i % 2 === 1 ? 8 : 16;
    add(`prod-web-server-${two(i)}`, "sa-prod-cluster-01", "ON", "production", { cpu_cores: cores, memory_gb: i % 2 === 1 ? 32 : 64, disk_total_gb: 500, cluster: "cluster-prod-01" });
  }
  // cluster-prod-01, OFF: 8 resources.
  for (let i = 1; i <= 8; i++) add(`prod-batch-${two(i)}`, "sa-prod-cluster-01", "OFF", "production", { cpu_cores: 4, memory_gb: 16, disk_total_gb: 250, cluster: "cluster-prod-01" });
  // cluster-dev-01, ON: 15 resources, 3 of them on the same account and tagged production.
  for (let i = 1; i <= 15; i++) {
    add(`test-web-server-${two(i)}`, i <= 3 ? "sa-prod-cluster-01" : "sa-dev-cluster-01", "ON", i <= 3 ? "production" : "development", { cpu_cores: 8, memory_gb: 32, disk_total_gb: 100, cluster: "cluster-dev-01" });
  }
  // Outside both queries: another provider's type, a disk, and a deleted instance.
  add("aws-web-01", "sa-prod-cluster-01", "ON", "production", { cpu_cores: 2, cluster: "cluster-prod-01" }, { provider: "aws" });
  add("prod-disk-01", "sa-prod-cluster-01", "ON", "production", { cluster: "cluster-prod-01" }, { cloudServiceType: "compute.Disk" });
  for (const resource of resources) await as.create(resource);
  const deleted = await as.create({ ...(resources[0] as object), cloudServiceName: "prod-web-server-00", reference: { resourceId: "vm-deleted" } });
  await as.delete({ cloudServiceId: deleted.cloudServiceId });
}

describe("seed 000: Query Cloud Services and Statistics Query", () => {
  let analyst: typeof platform.admin;
  let analystClient: Client<typeof CloudServiceService>;

  beforeAll(async () => {
    analyst = await platform.createDomainAdmin("domain-seed-query");
    analystClient = platform.client(CloudServiceService, analyst);
    await seedInventory(analystClient);
  });

  it("Query Cloud Services: the seed's request as written", async () => {
    const answer = await postJson(
      platform.url("cloud-service"),
      "cloudforet.cloud_service.v1.CloudServiceService/List",
      {
        query: {
          filter: [
            { k: "provider", v: "nutanix", o: "eq" },
            { k: "cloud_service_type", v: "compute.Instance", o: "eq" },
            { k: "state", v: "ON", o: "eq" },
            { k: "account", v: "sa-prod-cluster-01", o: "eq" },
            { k: "tags.environment", v: "production", o: "eq" },
          ],
          sort: { key: "name", desc: false },
          page: { start: 0, limit: 50 },
          only: ["cloud_service_id", "name", "state", "account", "data"],
        },
      },
      analyst,
    );
    expect(answer.status).toBe(200);
    const { results, total_count } = answer.body as { results: Record<string, unknown>[]; total_count: number };
    expect(total_count).toBe(45);
    expect(results).toHaveLength(45);
    expect(results.slice(0, 2)).toMatchObject([
      { name: "prod-web-server-01", state: "ON", account: "sa-prod-cluster-01", data: { cpu_cores: 8, memory_gb: 32, cluster: "cluster-prod-01" } },
      { name: "prod-web-server-02", state: "ON", account: "sa-prod-cluster-01", data: { cpu_cores: 16, memory_gb: 64, cluster: "cluster-prod-01" } },
    ]);
    expect(results[0].cloud_service_id).toMatch(/^cs-/);
    // Fields outside `only` are left unset (printed as proto3 defaults).
    expect(results[0].provider).toBe("");
    expect(results[0].tags).toEqual({});
    const names = results.map((r) => r.name as string);
    expect(names).toEqual([...names].sort());
    const page2 = await analystClient.list({ query: { sort: { key: "name" }, page: { start: 44, limit: 50 }, filter: [{ k: "provider", v: { kind: { case: "stringValue", value: "nutanix" } } }] } });
    expect(page2.totalCount).toBe(66);
    expect(page2.results).toHaveLength(22);
  });

  it("Statistics Query: the seed's request as written gives the seed's rows", async () => {
    const answer = await postJson(
      platform.url("cloud-service"),
      "cloudforet.cloud_service.v1.CloudServiceService/Stat",
      {
        query: {
          aggregate: [
            {
              group: { keys: ["data.cluster", "state"] },
              statistics: {
                count: { key: "cloud_service_id" },
                avg_cpu: { field: "data.cpu_cores" },
                avg_memory: { field: "data.memory_gb" },
                total_disk: { field: "data.disk_total_gb" },
              },
            },
          ],
          filter: [
            { k: "provider", v: "nutanix", o: "eq" },
            { k: "cloud_service_type", v: "compute.Instance", o: "eq" },
          ],
        },
      },
      analyst,
    );
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      results: [
        { cluster: "cluster-prod-01", state: "ON", count: 42, avg_cpu: 12.5, avg_memory: 48.0, total_disk: 21000.0 },
        { cluster: "cluster-prod-01", state: "OFF", count: 8, avg_cpu: 4.0, avg_memory: 16.0, total_disk: 2000.0 },
        { cluster: "cluster-dev-01", state: "ON", count: 15, avg_cpu: 8.0, avg_memory: 32.0, total_disk: 1500.0 },
      ],
    });
  });

  it("names the bad part of a query", async () => {
    expect(await failure(analystClient.list({ query: { filter: [{ k: "data.cpu_cores", o: "between", v: { kind: { case: "stringValue", value: "x" } } }] } }))).toMatchObject({
      code: "ERROR_INVALID_PARAMETER",
      metadata: { parameter: "query.filter[0]" },
    });
    expect(await failure(analystClient.stat({ query: { aggregate: [{ group: { keys: ["nope"] }, statistics: {} }] } }))).toMatchObject({ code: "ERROR_INVALID_PARAMETER" });
  });
});
