import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { cloudServiceModule } from "@cloudforet/cloud-service";
import { costModule } from "@cloudforet/cost";
import { decodeError } from "@cloudforet/errors";
import { inventoryModule } from "@cloudforet/inventory";
import { monitoringModule } from "@cloudforet/monitoring";
import { notificationModule } from "@cloudforet/notification";
import { orchestrationModule } from "@cloudforet/orchestration";
import { CloudServiceService } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_pb";
import { CostService } from "@cloudforet/proto/cloudforet/cost/v1/cost_pb";
import { UserService } from "@cloudforet/proto/cloudforet/identity/v1/user_pb";
import { CollectorService } from "@cloudforet/proto/cloudforet/inventory/v1/collector_pb";
import { MetricService } from "@cloudforet/proto/cloudforet/monitoring/v1/metric_pb";
import { InstanceService, InstanceServiceCreateRequestSchema } from "@cloudforet/proto/cloudforet/orchestration/v1/instance_pb";
import { SequenceService } from "@cloudforet/proto/cloudforet/orchestration/v1/sequence_pb";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { startTestPlatform } from "../support/platform";
import { postUnary, type RawAnswer } from "./connect-raw";
import { createObjects, FIXTURE_USER_PASSWORD } from "./fixtures";
import { plantedArbitrary } from "./hostile-json";
import { reflectMethods } from "./reflection";

/**
 * Hostile values in nested fields (Struct options, block params, context, map values, rows of a
 * batch) and callers without any workspace role: never INTERNAL, always INVALID_ARGUMENT naming
 * the field — except the rows of the per-item batch RPCs, which fail alone.
 * FAST_CHECK_RUNS raises the number of requests per RPC (default 25); FAST_CHECK_SEED replays a run.
 */

const runs = Number(process.env.FAST_CHECK_RUNS ?? 25);
const seed = process.env.FAST_CHECK_SEED ? Number(process.env.FAST_CHECK_SEED) : undefined;

/** Orchestration is covered unless RELIABILITY_ORCHESTRATION=0 (as in hostile-input.test.ts). */
const withOrchestration = process.env.RELIABILITY_ORCHESTRATION !== "0";
const itWithOrchestration = withOrchestration ? it : it.skip;
const platform = await startTestPlatform({ modules: [inventoryModule, cloudServiceModule, costModule, monitoringModule, notificationModule, ...(withOrchestration ? [orchestrationModule] : [])] });
const ids = await createObjects(platform, platform.admin, "nested");
const failure = (promise: Promise<unknown>) => promise.then(() => expect.fail("expected an error"), (err) => decodeError(err));

afterAll(async () => {
  await platform?.close();
});

/** The start of a request for a report; a body thousands of levels deep is too deep to print. */
const describeRequest = (request: unknown) => {
  try {
    return JSON.stringify(request).slice(0, 600);
  } catch {
    return "(a request too deep to print)";
  }
};

/** INTERNAL or UNKNOWN, or a 5xx that is not UNIMPLEMENTED (501), UNAVAILABLE (503) or DEADLINE_EXCEEDED (504). */
const unexpected = (answer: RawAnswer) =>
  answer.code === "internal" || answer.code === "unknown" || (answer.status >= 500 && ![501, 503, 504].includes(answer.status));

// A user of the domain with no role in any workspace.
await platform.client(UserService).create({ userId: "user-no-role", password: FIXTURE_USER_PASSWORD });
const nobody = await platform.login(platform.admin.domainId, "user-no-role", FIXTURE_USER_PASSWORD);
/** Every unary RPC of the two services whose reads go through the workspace scope (scope.ts). */
const scoped = (await reflectMethods([platform.url("inventory"), platform.url("cloud-service")])).filter((m) => m.method.methodKind === "unary");
/** Their lists of workspace rows (cloud service types are the domain's, not a workspace's). */
const workspaceLists = /(CollectorService|JobService|JobTaskService|CloudServiceService)\/List$/;

describe("a user without any workspace role", () => {
  it("finds the Get/List/Stat RPCs of inventory and cloud-service (14 and more)", () => {
    expect(scoped.filter((m) => /^(Get|List|Stat)/.test(m.method.name)).length).toBeGreaterThanOrEqual(11);
    expect(scoped.length).toBeGreaterThanOrEqual(14);
  });

  // The scope of such a caller was `workspace_id IN ('\u0000')`, which Postgres refuses: INTERNAL.
  it.each(scoped.map((m) => [m.procedure, m] as const))("%s answers it without INTERNAL", async (_procedure, m) => {
    const request: Record<string, unknown> = {};
    for (const field of m.method.input.fields) {
      if (ids[field.name]) request[field.name] = ids[field.name];
      if (field.name === "query") request.query = m.method.name.startsWith("Stat") ? { aggregate: [{ count: { name: "total" } }] } : {};
    }
    const answer = await postUnary(m.baseUrl, m.procedure, request, nobody.token);
    expect(unexpected(answer), `${answer.status} ${answer.code}: ${answer.message}`).toBe(false);
    if (workspaceLists.test(m.procedure)) expect(answer.body).toMatchObject({ total_count: 0 });
  });

  it("lists nothing through a generated client either", async () => {
    const asNobody = <S extends Parameters<typeof platform.client>[0]>(service: S) => platform.client(service, nobody);
    expect((await asNobody(CollectorService).list({})).totalCount).toBe(0);
    expect((await asNobody(CloudServiceService).list({})).totalCount).toBe(0);
    expect(await failure(asNobody(CloudServiceService).get({ cloudServiceId: ids.cloud_service_id }))).toMatchObject({ code: "ERROR_NOT_FOUND" });
  });
});

describe("hostile values in nested fields", () => {
  it("names the path into plugin options", async () => {
    const collectors = platform.client(CollectorService);
    expect(
      await failure(collectors.create({ name: "c", provider: "nutanix", workspaceId: ids.workspace_id, pluginInfo: { endpoint: "", options: { region: "eu\u0000" } } })),
    ).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "plugin_info.options.region" } });
  });

  itWithOrchestration("names block params and context paths", async () => {
    const sequences = platform.client(SequenceService);
    expect(
      await failure(sequences.create({ namespace: "default", name: "nul", blocks: [{ type: "step", id: "s", handler: "http", params: { url: "http://x/\u0000" } }] })),
    ).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "blocks[0].params.url" } });
    const sequence = await sequences.create({ namespace: "default", name: "ok", blocks: [{ type: "step", id: "s", handler: "noop" }] });
    const instances = platform.client(InstanceService);
    expect(await failure(instances.create({ sequenceId: sequence.id, namespace: "default", context: { a: { b: "x\u0000" } } }))).toMatchObject({
      code: "ERROR_INVALID_PARAMETER",
      metadata: { parameter: "context.a.b" },
    });
    expect(await failure(instances.create({ sequenceId: sequence.id, namespace: "default", metadata: { "k\u0000": 1 } }))).toMatchObject({ metadata: { parameter: "metadata" } });
  });

  itWithOrchestration("refuses a time past 9999 and JSON past 64 levels, also over the wire as binary", async () => {
    const sequence = await platform.client(SequenceService).create({ namespace: "default", name: "times", blocks: [{ type: "step", id: "s", handler: "noop" }] });
    const instances = platform.client(InstanceService);
    const far = create(InstanceServiceCreateRequestSchema, { sequenceId: sequence.id, namespace: "default", nextFireAt: { seconds: 8_639_977_881_600n } });
    expect(await failure(instances.create(far))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "next_fire_at" } });
    expect(await failure(instances.create({ sequenceId: sequence.id, namespace: "default", nextFireAt: timestampFromDate(new Date("0000-06-01T00:00:00Z")) }))).toMatchObject({
      metadata: { parameter: "next_fire_at" },
    });
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 80; i++) deep = { a: deep };
    expect(await failure(instances.create({ sequenceId: sequence.id, namespace: "default", context: deep as never }))).toMatchObject({ code: "ERROR_INVALID_PARAMETER" });
  });

  it("answers Connect JSON with a NUL, a lone surrogate or a far date anywhere with 400", async () => {
    const bodies: [string, string, string][] = [
      ["inventory", "cloudforet.inventory.v1.CollectorService/Create", `{"name":"c","provider":"nutanix","workspace_id":"${ids.workspace_id}","plugin_info":{"options":{"region":"\\u0000"}}}`],
      ["orchestration", "cloudforet.orchestration.v1.SequenceService/Create", `{"namespace":"default","name":"s","blocks":[{"type":"step","id":"s","handler":"noop","params":{"url":"\\ud800x"}}]}`],
      ["orchestration", "cloudforet.orchestration.v1.InstanceService/Create", `{"sequence_id":"x","namespace":"default","next_fire_at":"+275760-09-13T00:00:00Z"}`],
      ["cloud-service", "cloudforet.cloud_service.v1.CloudServiceService/Create", `{"cloud_service_type":"compute.Instance","cloud_service_name":"v","provider":"nutanix","data":{"a":{"b":"\\udc00"}}}`],
      ["cloud-service", "cloudforet.cloud_service.v1.CloudServiceService/List", `{"query":{"filter":[{"k":"data.a","v":{"x":"\\u0000"},"o":"eq"}],"page":{"start":99999999999999999999}}}`],
    ];
    for (const [service, procedure, body] of bodies.filter(([service]) => withOrchestration || service !== "orchestration")) {
      const answer = await postUnary(platform.url(service), procedure, body, platform.admin.token);
      expect(answer, procedure).toMatchObject({ status: 400, code: "invalid_argument" });
    }
  });

  it("still refuses a bad row of a per-item batch alone", async () => {
    const costs = await platform.client(CostService).batchCreate({
      dataSourceId: ids.data_source_id,
      costs: [
        { date: "2024-03-01", cost: 1, resourceId: "vm-good" },
        // Binary protobuf carries no lone surrogate (UTF-8 turns it into U+FFFD): NUL is what gets through.
        { date: "2024-03-01", cost: 1, resourceId: "vm-bad", region: "x\u0000" },
        { date: "2024-03-01", cost: 1, resourceId: "vm-bad", tags: { a: "\u0000" } },
      ],
    });
    expect(costs).toMatchObject({ createdCount: 1, failedCount: 2 });
    const metrics = await platform.client(MetricService).pushBatch({
      resourceId: "vm-nested",
      metrics: [
        { metricName: "cpu", value: 1 },
        { metricName: "mem", value: 1, dimensions: { cluster: "\u0000" } },
      ],
    });
    expect(metrics).toMatchObject({ createdCount: 1, failedCount: 1 });
    const upserted = await platform.client(CloudServiceService).batchUpsert(
      (async function* () {
        const item = (name: string, data: Record<string, unknown>) => ({ cloudServiceType: "compute.Instance", cloudServiceName: name, provider: "nutanix", data: data as never, reference: { resourceId: name } });
        yield { items: [item("row-ok", { state: "ON" }), item("row-nul", { note: "a\u0000" }), item("row-key", { deep: { "k\u0000": 1 } })] };
      })(),
    );
    expect(upserted).toMatchObject({ failedCount: 2 });
    expect(upserted.errors.map((e) => e.index)).toEqual([1, 2]);
    expect(upserted.errors.every((e) => e.errorCode === "ERROR_INVALID_PARAMETER")).toBe(true);
  });

  // Valid requests of several services; the property plants one hostile value somewhere in each.
  const bases: [string, string, () => unknown][] = [
    ["inventory", "cloudforet.inventory.v1.CollectorService/Create", () => ({ name: "prop", provider: "nutanix", workspace_id: ids.workspace_id, plugin_info: { endpoint: "", options: { region: "eu", nested: { list: [1, "x"] } } }, tags: { env: "prod" } })],
    ["inventory", "cloudforet.inventory.v1.CollectorService/List", () => ({ query: { filter: [{ k: "name", v: "prop", o: "eq" }], page: { start: 0, limit: 10 } } })],
    ["cloud-service", "cloudforet.cloud_service.v1.CloudServiceService/Create", () => ({ cloud_service_type: "compute.Instance", cloud_service_name: "prop", provider: "nutanix", data: { state: "ON", disks: [{ size: 1 }] }, tags: { env: "prod" }, reference: { resource_id: "prop" } })],
    ["cloud-service", "cloudforet.cloud_service.v1.CloudServiceService/Stat", () => ({ query: { filter: [{ k: "data.state", v: "ON" }], aggregate: [{ group: { keys: [{ key: "provider", name: "p" }] } }] } })],
    ["cost", "cloudforet.cost.v1.CostService/Create", () => ({ data_source_id: ids.data_source_id, date: "2024-01-15", cost: 1, resource_id: "vm-prop", tags: { env: "prod" } })],
    ["monitoring", "cloudforet.monitoring.v1.MetricService/Push", () => ({ resource_id: "vm-prop", metric_name: "cpu", value: 1, timestamp: "2024-01-15T00:00:00Z", dimensions: { cluster: "a" } })],
    ["notification", "cloudforet.notification.v1.ChannelService/Create", () => ({ name: "prop", channel_type: "WEBHOOK", options: { url: "http://127.0.0.1:9/hook", headers: { x: "y" } }, workspace_id: ids.workspace_id })],
    ["orchestration", "cloudforet.orchestration.v1.SequenceService/Create", () => ({ namespace: "default", name: "prop", blocks: [{ type: "step", id: "s", handler: "http", params: { url: "http://x", headers: { a: "b" } } }] })],
    ["orchestration", "cloudforet.orchestration.v1.InstanceService/Create", () => ({ sequence_id: "seq-none", namespace: "default", context: { a: { b: "c" } }, metadata: { k: [1] }, next_fire_at: "2024-01-15T00:00:00Z" })],
  ];

  it.each(bases.filter(([service]) => withOrchestration || service !== "orchestration"))("%s %s answers hostile nested values with a taxonomy code", async (service, procedure, base) => {
    let last: RawAnswer | undefined;
    let sent: unknown;
    const result = await fc.check(
      fc.asyncProperty(plantedArbitrary(base()), async (request) => {
        sent = request;
        last = await postUnary(platform.url(service), procedure, request, platform.admin.token);
        return !unexpected(last);
      }),
      { numRuns: runs, seed, endOnFailure: true },
    );
    const report = result.failed ? `${last?.status} ${last?.code}: ${last?.message} (seed ${result.seed}) for ${describeRequest(sent)}${result.errorInstance ? ` — threw ${String(result.errorInstance)}` : ""}` : "";
    expect(report).toBe("");
  }, runs * 5_000);

  it("every service still answers health", async () => {
    for (const name of ["inventory", "cloud-service", "cost", "monitoring", "notification", ...(withOrchestration ? ["orchestration"] : [])]) {
      expect((await fetch(`${platform.url(name)}/health/live`)).status, name).toBe(200);
    }
  });
});
