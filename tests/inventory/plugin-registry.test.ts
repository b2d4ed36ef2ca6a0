import { Code, type Client } from "@connectrpc/connect";
import { decodeError } from "@cloudforet/errors";
import { CloudServiceService } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_pb";
import { CollectorService } from "@cloudforet/proto/cloudforet/inventory/v1/collector_pb";
import { Job_Status, JobService, type Job } from "@cloudforet/proto/cloudforet/inventory/v1/job_pb";
import { JobTaskService, type JobTask } from "@cloudforet/proto/cloudforet/inventory/v1/job_task_pb";
import {
  Enrollment_Status,
  EnrollmentService,
  Plugin_Kind,
  Plugin_RoutingMode,
  PluginAliasService,
  PluginEndpoint_Health,
  PluginService,
  type Enrollment,
} from "@cloudforet/proto/cloudforet/inventory/v1/plugin_pb";
import { authenticateFailure, cloudService, definePlugin, servePlugin, type ServedPlugin } from "@cloudforet/plugin-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestPlatform } from "../support/platform";
import { createNutanixAccounts, freePort, startInventoryPlatform } from "./inventory-platform";

/**
 * The plugin registry (README "Plugin registry"): plugins with versions served by several real
 * collector plugin servers, enrollments verified by the plugin, aliases switched under a collector,
 * the Resolve dry run, failover when an endpoint is killed, weighted routing and input errors.
 */

/** A collector plugin that says which server it is in every resource (`data.served_by`). */
function namedPlugin(name: string) {
  return definePlugin({
    init() {
      return { served_by: name };
    },
    verify(_options, secretData) {
      if (secretData.api_key !== "good-key") throw authenticateFailure("Invalid API key");
    },
    async *collect({ taskOptions }) {
      for (let i = 0; i < 3; i++) {
        yield cloudService({
          cloud_service_type: "compute.Instance",
          cloud_service_group: "Registry",
          cloud_service_name: `registry-${i}`,
          data: { served_by: name },
          reference: { resource_id: `vm-registry-${String(taskOptions.service_account_id)}-${i}` },
        });
      }
    },
  });
}

let platform: TestPlatform;
let a: ServedPlugin;
let b: ServedPlugin;
let c: ServedPlugin;
let pluginsApi: Client<typeof PluginService>;
let aliases: Client<typeof PluginAliasService>;
let enrollments: Client<typeof EnrollmentService>;
let collectors: Client<typeof CollectorService>;
const failure = (promise: Promise<unknown>) => promise.then(() => expect.fail("expected an error"), (err) => decodeError(err));
const text = (value: string) => ({ kind: { case: "stringValue" as const, value } });

beforeAll(async () => {
  [a, b, c] = await Promise.all(["a", "b", "c"].map((name) => servePlugin(namedPlugin(name), { host: "127.0.0.1", port: 0 })));
  // A long health interval: every endpoint is checked once at once, then a killed endpoint is found by a call failing over.
  platform = await startInventoryPlatform({ INVENTORY_PLUGIN_HEALTH_INTERVAL_MS: "600000", INVENTORY_ENROLLMENT_POLL_MS: "100" });
  pluginsApi = platform.client(PluginService);
  aliases = platform.client(PluginAliasService);
  enrollments = platform.client(EnrollmentService);
  collectors = platform.client(CollectorService);
  await createNutanixAccounts(platform, platform.admin, "ws-registry", ["sa-registry-01"]);
  await pluginsApi.register({ pluginId: "plugin-nutanix", name: "Nutanix collector", kind: Plugin_Kind.COLLECTOR, routingMode: Plugin_RoutingMode.FAILOVER });
  await pluginsApi.addVersion({ pluginId: "plugin-nutanix", version: "1.0.0", endpoints: [{ url: a.url, weight: 1 }, { url: b.url, weight: 1 }] });
  await pluginsApi.addVersion({ pluginId: "plugin-nutanix", version: "1.1.0", endpoints: [{ url: c.url }] });
}, 120_000);

afterAll(async () => {
  await platform?.close();
  await Promise.all([a, b, c].map((p) => p?.close()));
});

/** Collect on a collector and wait for the job's end; returns the job and which servers its resources came from. */
async function collect(collectorId: string) {
  const started = await collectors.collect({ collectorId, serviceAccountIds: ["sa-registry-01"] });
  let job: Job | undefined;
  for await (const message of platform.client(JobService).watch({ jobId: started.jobId })) job = message.job;
  const [task] = (await platform.client(JobTaskService).list({ query: { filter: [{ k: "job_id", v: text(started.jobId) }] } })).results as JobTask[];
  const resources = await platform.client(CloudServiceService).list({ query: { filter: [{ k: "collector_id", v: text(collectorId) }] } });
  const servedBy = [...new Set(resources.results.map((r) => (r.data as { served_by?: string } | undefined)?.served_by))];
  return { job: job!, task, servedBy };
}

async function settled(enrollmentId: string): Promise<Enrollment> {
  // The seed's loop: `while enr.status == "pending": enr = enr.refresh()`.
  let enrollment = (await enrollments.get({ enrollmentId })).enrollment!;
  for (let i = 0; i < 200 && enrollment.status === Enrollment_Status.PENDING; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    enrollment = (await enrollments.get({ enrollmentId })).enrollment!;
  }
  return enrollment;
}

describe("plugins and versions", () => {
  it("Get shows the versions newest first, their endpoints in order, and their health once checked", async () => {
    await expect
      .poll(async () => (await pluginsApi.get({ pluginId: "plugin-nutanix" })).plugin!.versions.flatMap((v) => v.endpoints.map((e) => e.health)), { timeout: 10_000 })
      .toEqual([PluginEndpoint_Health.HEALTHY, PluginEndpoint_Health.HEALTHY, PluginEndpoint_Health.HEALTHY]);
    const { plugin } = await pluginsApi.get({ pluginId: "plugin-nutanix" });
    expect(plugin).toMatchObject({ pluginId: "plugin-nutanix", name: "Nutanix collector", kind: Plugin_Kind.COLLECTOR, routingMode: Plugin_RoutingMode.FAILOVER, domainId: "domain-default" });
    expect(plugin!.versions.map((v) => [v.version, v.endpoints.map((e) => [e.url, e.weight])])).toEqual([
      ["1.1.0", [[c.url, 1]]],
      ["1.0.0", [[a.url, 1], [b.url, 1]]],
    ]);
    const listed = await pluginsApi.list({ query: { page: { start: 0, limit: 1 } } });
    expect(listed.totalCount).toBeGreaterThanOrEqual(1);
    expect(listed.results).toHaveLength(1);
  });

  it("refuses bad input with INVALID_ARGUMENT naming the field, and duplicates with ALREADY_EXISTS", async () => {
    const add = (endpoints: { url: string; weight?: number }[], version = "2.0.0") => failure(pluginsApi.addVersion({ pluginId: "plugin-nutanix", version, endpoints }));
    expect(await add([{ url: "not a url" }])).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "endpoints[0].url" } });
    expect(await add([{ url: a.url }, { url: "ftp://example.com" }])).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "endpoints[1].url" } });
    expect(await add([{ url: a.url, weight: -1 }])).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "endpoints[0].weight" } });
    expect(await add([])).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "endpoints" } });
    expect(await add([{ url: a.url }], "latest")).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "version" } });
    // The outbound guard: the platform must not call into its own network (only 127.0.0.1 is allowlisted in tests).
    expect(await add([{ url: "http://169.254.169.254/latest" }])).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "endpoints[0].url" } });
    expect(await add([{ url: "http://10.0.0.5:50100" }])).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "endpoints[0].url" } });
    expect(await add([{ url: a.url }], "1.0.0")).toMatchObject({ code: "ERROR_CONFLICT", grpcCode: Code.AlreadyExists });
    expect(await failure(pluginsApi.register({ pluginId: "plugin-nutanix", name: "again" }))).toMatchObject({ code: "ERROR_CONFLICT", grpcCode: Code.AlreadyExists });
    expect(await failure(pluginsApi.register({ pluginId: "bad id!", name: "x" }))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "plugin_id" } });
    expect(await failure(pluginsApi.register({ name: "" }))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "name" } });
    expect(await failure(pluginsApi.get({ pluginId: "plugin-missing" }))).toMatchObject({ code: "ERROR_NOT_FOUND" });
    expect(await failure(aliases.create({ pluginId: "plugin-nutanix", name: "beta", version: "9.9.9" }))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "version" } });
    expect(await failure(aliases.create({ pluginId: "plugin-nutanix", name: "1.0.0", version: "1.0.0" }))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "name" } });
    expect(await failure(pluginsApi.resolve({ pluginId: "plugin-nutanix", version: "nightly" }))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "version" } });
    expect(await failure(pluginsApi.resolve({ pluginId: "plugin-nutanix", version: "3.0.0" }))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "version" } });
  });

  it("a workspace owner reads the registry but cannot change it", async () => {
    const owner = await platform.createWorkspaceUser(platform.admin, "user-registry-owner", "WORKSPACE_OWNER", "ws-registry");
    expect((await platform.client(PluginService, owner).get({ pluginId: "plugin-nutanix" })).plugin?.pluginId).toBe("plugin-nutanix");
    expect(await failure(platform.client(PluginService, owner).register({ pluginId: "plugin-owner", name: "x" }))).toMatchObject({ code: "ERROR_PERMISSION_DENIED" });
  });
});

describe("enrollments", () => {
  it("go PENDING → ACTIVE once the plugin's Verify accepts the parameters, secrets masked on reads", async () => {
    const { enrollment } = await enrollments.create({ pluginId: "plugin-nutanix", version: "1.0.0", parameters: { region: "eu", api_key: "good-key" }, workspaceId: "ws-registry" });
    expect(enrollment).toMatchObject({ status: Enrollment_Status.PENDING, pluginId: "plugin-nutanix", version: "1.0.0", workspaceId: "ws-registry", parameters: { region: "eu", api_key: "********" } });
    const active = await settled(enrollment!.enrollmentId);
    expect(active).toMatchObject({ status: Enrollment_Status.ACTIVE, resolvedVersion: "1.0.0", reason: "", parameters: { region: "eu", api_key: "********" } });
    expect(active.verifiedAt).toBeDefined();
    expect(JSON.stringify((await enrollments.list({})).results.map((e) => e.parameters))).not.toContain("good-key");
  });

  it("go FAILED with the plugin's reason when Verify refuses", async () => {
    const { enrollment } = await enrollments.create({ pluginId: "plugin-nutanix", version: "1.0.0", parameters: { api_key: "wrong" } });
    const failed = await settled(enrollment!.enrollmentId);
    expect(failed).toMatchObject({ status: Enrollment_Status.FAILED, reason: "ERROR_AUTHENTICATE_FAILURE: Invalid API key", workspaceId: "" });
  });

  it("Cancel sets CANCELLED once; List pages; unknown plugins and versions are refused at Create", async () => {
    const { enrollment } = await enrollments.create({ pluginId: "plugin-nutanix", version: "1.1.0", parameters: { api_key: "good-key" } });
    await settled(enrollment!.enrollmentId);
    expect((await enrollments.cancel({ enrollmentId: enrollment!.enrollmentId })).enrollment).toMatchObject({ status: Enrollment_Status.CANCELLED });
    expect(await failure(enrollments.cancel({ enrollmentId: enrollment!.enrollmentId }))).toMatchObject({ code: "ERROR_CONFLICT", grpcCode: Code.FailedPrecondition });
    const page = await enrollments.list({ query: { page: { start: 0, limit: 2 }, filter: [{ k: "plugin_id", v: text("plugin-nutanix") }] } });
    expect(page.totalCount).toBe(3);
    expect(page.results).toHaveLength(2);
    expect(await failure(enrollments.create({ pluginId: "plugin-missing" }))).toMatchObject({ code: "ERROR_NOT_FOUND" });
    expect(await failure(enrollments.create({ pluginId: "plugin-nutanix", version: "7.0.0" }))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "version" } });
    expect(await failure(enrollments.get({ enrollmentId: "enrollment-missing" }))).toMatchObject({ code: "ERROR_NOT_FOUND" });
  });
});

describe("aliases", () => {
  it("a collector naming `stable` collects from the version the alias names at each collection", async () => {
    expect((await aliases.create({ pluginId: "plugin-nutanix", name: "stable", version: "1.0.0" })).alias).toMatchObject({ name: "stable", version: "1.0.0" });
    expect(await failure(aliases.create({ pluginId: "plugin-nutanix", name: "stable", version: "1.1.0" }))).toMatchObject({ code: "ERROR_CONFLICT", grpcCode: Code.AlreadyExists });
    const created = await collectors.create({ collectorId: "collector-registry-stable", name: "stable", provider: "nutanix", workspaceId: "ws-registry", pluginInfo: { pluginId: "plugin-nutanix", pluginVersion: "stable" } });
    expect(created.pluginInfo).toMatchObject({ endpoint: "", pluginId: "plugin-nutanix", pluginVersion: "stable" });
    const first = await collect("collector-registry-stable");
    expect(first.job.status).toBe(Job_Status.FINISHED);
    expect(first.servedBy).toEqual(["a"]);

    const switched = await aliases.switch({ pluginId: "plugin-nutanix", name: "stable", version: "1.1.0" });
    expect(switched).toMatchObject({ alias: { name: "stable", version: "1.1.0" }, previousVersion: "1.0.0" });
    const second = await collect("collector-registry-stable");
    expect(second.job).toMatchObject({ status: Job_Status.FINISHED, updatedCount: 3 });
    expect(second.servedBy).toEqual(["c"]);
    // Verify goes the same way: Init answers from the new version's server.
    expect((await collectors.verify({ collectorId: "collector-registry-stable" })).metadata).toEqual({ served_by: "c" });

    expect((await aliases.list({ pluginId: "plugin-nutanix" })).results.map((x) => [x.name, x.version])).toEqual([["stable", "1.1.0"]]);
    expect(await failure(aliases.delete({ pluginId: "plugin-nutanix", name: "stable" }))).toMatchObject({ code: "ERROR_CONFLICT", grpcCode: Code.FailedPrecondition });
    expect(await failure(pluginsApi.removeVersion({ pluginId: "plugin-nutanix", version: "1.1.0" }))).toMatchObject({ code: "ERROR_CONFLICT", grpcCode: Code.FailedPrecondition });
    expect(await failure(collectors.create({ collectorId: "collector-registry-bad", name: "x", provider: "nutanix", workspaceId: "ws-registry", pluginInfo: { pluginId: "plugin-missing" } }))).toMatchObject({
      code: "ERROR_INVALID_PARAMETER",
      metadata: { parameter: "plugin_info.plugin_id" },
    });
    expect(
      await failure(collectors.create({ collectorId: "collector-registry-both", name: "x", provider: "nutanix", workspaceId: "ws-registry", pluginInfo: { endpoint: a.url, pluginId: "plugin-nutanix" } })),
    ).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "plugin_info.plugin_id" } });
  }, 60_000);

  it("raw endpoint URLs keep working beside registry references", async () => {
    await collectors.create({ collectorId: "collector-registry-raw", name: "raw", provider: "nutanix", workspaceId: "ws-registry", pluginInfo: { endpoint: b.url } });
    const raw = await collect("collector-registry-raw");
    expect(raw.job.status).toBe(Job_Status.FINISHED);
    expect(raw.servedBy).toEqual(["b"]);
  }, 60_000);
});

describe("Resolve (dry run)", () => {
  it("tells the version, the endpoint a call would use and why, calling nothing", async () => {
    expect(await pluginsApi.resolve({ pluginId: "plugin-nutanix", version: "stable" })).toMatchObject({
      pluginId: "plugin-nutanix",
      version: "1.1.0",
      alias: "stable",
      routingMode: Plugin_RoutingMode.FAILOVER,
      endpoint: { url: c.url },
      explanation: expect.stringContaining("alias stable → 1.1.0"),
    });
    const pinned = await pluginsApi.resolve({ pluginId: "plugin-nutanix", version: "1.0.0" });
    expect(pinned).toMatchObject({ version: "1.0.0", alias: "", endpoint: { url: a.url } });
    expect(pinned.candidates.map((e) => e.url)).toEqual([a.url, b.url]);
    // Empty: the alias `stable`.
    expect((await pluginsApi.resolve({ pluginId: "plugin-nutanix" })).version).toBe("1.1.0");
  });
});

describe("routing", () => {
  it("FAILOVER: with one endpoint killed, collection moves to the other and still succeeds", async () => {
    await collectors.create({ collectorId: "collector-registry-pinned", name: "pinned", provider: "nutanix", workspaceId: "ws-registry", pluginInfo: { pluginId: "plugin-nutanix", pluginVersion: "1.0.0" } });
    await a.close();
    const { job, task, servedBy } = await collect("collector-registry-pinned");
    expect(task.errors).toEqual([]);
    expect(job).toMatchObject({ status: Job_Status.FINISHED, errorCount: 0 });
    expect(job.createdCount + job.updatedCount).toBe(3);
    expect(servedBy).toEqual(["b"]);
    // The failed call marked the endpoint: the next calls go straight to the healthy one.
    const resolved = await pluginsApi.resolve({ pluginId: "plugin-nutanix", version: "1.0.0" });
    expect(resolved.endpoint?.url).toBe(b.url);
    expect(resolved.candidates.map((e) => [e.url, e.health])).toEqual([
      [b.url, PluginEndpoint_Health.HEALTHY],
      [a.url, PluginEndpoint_Health.UNHEALTHY],
    ]);
    expect(resolved.candidates[1].lastError).toMatch(/^ERROR_SERVICE_UNAVAILABLE/);
    expect(resolved.explanation).toContain(`${a.url} skipped (UNHEALTHY)`);
  }, 60_000);

  it("the health checker marks an endpoint that does not answer UNHEALTHY, and routing skips it", async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    await pluginsApi.register({ pluginId: "plugin-checked", name: "checked", routingMode: Plugin_RoutingMode.FAILOVER });
    await pluginsApi.addVersion({ pluginId: "plugin-checked", version: "1.0.0", endpoints: [{ url: dead }, { url: b.url }] });
    await expect.poll(async () => (await pluginsApi.resolve({ pluginId: "plugin-checked" })).candidates.map((e) => e.health), { timeout: 10_000 }).toEqual([PluginEndpoint_Health.HEALTHY, PluginEndpoint_Health.UNHEALTHY]);
    expect((await pluginsApi.resolve({ pluginId: "plugin-checked" })).endpoint?.url).toBe(b.url);
  });

  it("WEIGHTED: calls spread over the endpoints in proportion to their weights", async () => {
    const d = await servePlugin(namedPlugin("d"), { host: "127.0.0.1", port: 0 });
    try {
      await pluginsApi.register({ pluginId: "plugin-weighted", name: "weighted", routingMode: Plugin_RoutingMode.WEIGHTED });
      await pluginsApi.addVersion({ pluginId: "plugin-weighted", version: "1.0.0", endpoints: [{ url: c.url, weight: 3 }, { url: d.url, weight: 1 }] });
      const counts = new Map<string, number>();
      for (let i = 0; i < 200; i++) {
        const url = (await pluginsApi.resolve({ pluginId: "plugin-weighted" })).endpoint!.url;
        counts.set(url, (counts.get(url) ?? 0) + 1);
      }
      expect(counts.get(c.url)).toBeGreaterThan(110);
      expect(counts.get(c.url)).toBeLessThan(190);
      expect(counts.get(d.url)).toBeGreaterThan(10);
      // Real collections are routed the same way: both servers get some of them.
      await collectors.create({ collectorId: "collector-registry-weighted", name: "weighted", provider: "nutanix", workspaceId: "ws-registry", pluginInfo: { pluginId: "plugin-weighted" } });
      const served = new Set<string>();
      // Until both served (d has a quarter of the weight: 60 tries miss it with probability 0.75^60 ≈ 3e-8).
      for (let i = 0; i < 60 && served.size < 2; i++) {
        const { job, servedBy } = await collect("collector-registry-weighted");
        expect(job.status).toBe(Job_Status.FINISHED);
        // Every collection rewrites the same three resources: they name the server of the latest one.
        expect(servedBy).toHaveLength(1);
        served.add(servedBy[0]!);
      }
      expect([...served].sort()).toEqual(["c", "d"]);
      // Switching to FAILOVER keeps the registered order.
      await pluginsApi.update({ pluginId: "plugin-weighted", routingMode: Plugin_RoutingMode.FAILOVER });
      expect((await pluginsApi.resolve({ pluginId: "plugin-weighted" })).endpoint?.url).toBe(c.url);
    } finally {
      await d.close();
    }
  }, 120_000);
});

describe("deleting", () => {
  it("a plugin a collector references cannot be deleted; an unreferenced one can", async () => {
    expect(await failure(pluginsApi.delete({ pluginId: "plugin-nutanix" }))).toMatchObject({ code: "ERROR_CONFLICT", grpcCode: Code.FailedPrecondition });
    await pluginsApi.delete({ pluginId: "plugin-checked" });
    expect(await failure(pluginsApi.get({ pluginId: "plugin-checked" }))).toMatchObject({ code: "ERROR_NOT_FOUND" });
  });
});
