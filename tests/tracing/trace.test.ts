// Issue 20, tracing: services export OTLP traces when OTEL_EXPORTER_OTLP_ENDPOINT is set, and one
// collection is one connected trace: inventory's Collect → the plugin call and cloud-service's
// writes → inventory's outbox → NATS → notification's handler. The services run as processes (each
// its own SDK, as in production) against a real OTLP/HTTP receiver run here, which decodes what the
// SDK sends.
import { randomBytes } from "node:crypto";
import { servePlugin, type ServedPlugin } from "@cloudforet/plugin-sdk";
import { SecretService } from "@cloudforet/proto/cloudforet/identity/v1/secret_pb";
import { ServiceAccountService } from "@cloudforet/proto/cloudforet/identity/v1/service_account_pb";
import { WorkspaceService } from "@cloudforet/proto/cloudforet/identity/v1/workspace_pb";
import { CollectorService } from "@cloudforet/proto/cloudforet/inventory/v1/collector_pb";
import { NotificationService } from "@cloudforet/proto/cloudforet/notification/v1/notification_pb";
import { createTestDatabase, type TestDatabase } from "@cloudforet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clientFor } from "../faults/support/clients";
import { PrivateNats } from "../faults/support/private-nats";
import { startProcessPlatform, type ProcessPlatform } from "../faults/support/process-platform";
import { testPlugin } from "../inventory/test-plugin";
import { SpanKind, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from "./otlp-receiver";

let database: TestDatabase | undefined;
let nats: PrivateNats | undefined;
let platform: ProcessPlatform | undefined;
let plugin: ServedPlugin | undefined;
let receiver: OtlpReceiver;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  plugin = await servePlugin(testPlugin, { host: "127.0.0.1", port: 0 });
  database = await createTestDatabase("tracing");
  // A NATS of our own: no other test file's notification consumer takes our event.
  nats = await PrivateNats.start();
  platform = await startProcessPlatform({
    services: ["inventory", "cloud-service", "notification"],
    env: { DATABASE_URL: database.url, NATS_URL: nats.url, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: "200", LOG_FORMAT: "json", LOG_LEVEL: "info" },
  });
}, 180_000);

afterAll(async () => {
  await platform?.close();
  await plugin?.close();
  await nats?.stop();
  await database?.drop();
  await receiver?.close();
});

describe("tracing", () => {
  it("a collection is one trace: the Collect call through identity and NATS, its task run and its job's end across inventory, NATS, cloud-service and notification", async () => {
    // The test is the trace's root: its traceparent is the caller's, as a gateway's would be.
    const traceId = randomBytes(16).toString("hex");
    const rootSpanId = randomBytes(8).toString("hex");
    const { rpcLine } = await collectAndWait(traceId, rootSpanId);

    // 1. The call: its server span continues the caller's trace, reaches identity through inventory's
    //    client, and its outbox write is published and consumed through NATS in the same trace.
    const call = receiver.spans.filter((s) => s.traceId === traceId);
    const context = listing(receiver.spans, traceId);
    const collect = call.find((s) => s.service === "inventory" && s.kind === SpanKind.SERVER && s.name === "cloudforet.inventory.v1.CollectorService/Collect");
    expect(collect, context).toMatchObject({ parentSpanId: rootSpanId, attributes: { "rpc.service": "cloudforet.inventory.v1.CollectorService", "rpc.method": "Collect" } });
    expect(["grpc", "connect_rpc"]).toContain(collect!.attributes["rpc.system"]);
    const client = call.find((s) => s.service === "inventory" && s.kind === SpanKind.CLIENT);
    expect(call.find((s) => s.service === "identity" && s.kind === SpanKind.SERVER && s.parentSpanId === client?.spanId), context).toBeDefined();
    const published = call.find((s) => s.kind === SpanKind.PRODUCER && s.name === "publish cloudforet.inventory.job.created");
    expect(published, context).toMatchObject({ service: "inventory", attributes: { "messaging.system": "nats", "messaging.destination.name": "cloudforet.inventory.job.created" } });
    expect(call.some((s) => s.kind === SpanKind.CONSUMER && s.parentSpanId === published!.spanId), context).toBe(true);
    expectConnected(call, rootSpanId, context);
    // Its log line carries the trace and the server span.
    expect(JSON.parse(rpcLine), "inventory's rpc log line of Collect").toMatchObject({ trace_id: traceId, span_id: collect!.spanId });

    // 2. The job's end: inventory's outbox → NATS → notification raising the notice, and cloud-service
    //    sweeping what the job no longer reported, its own event consumed back by inventory: all in
    //    the Collect call's trace, as the task that ends the job runs in it (see the next test).
    const finished = call.find(finishedConsumed)!;
    expect(finished.traceId, context).toBe(traceId);
    const publish = call.find((s) => s.spanId === finished.parentSpanId);
    expect(publish, context).toMatchObject({ service: "inventory", kind: SpanKind.PRODUCER, name: "publish cloudforet.inventory.job.finished" });
    expect(call.some((s) => s.service === "cloud-service" && s.kind === SpanKind.CONSUMER), context).toBe(true);
    expect(call.some((s) => s.service === "notification" && s.name === "outbox write" && s.parentSpanId === finished.spanId), context).toBe(true);
    expect([...new Set(call.map((s) => s.service))].sort(), context).toEqual(["cloud-service", "identity", "inventory", "notification"]);
  }, 120_000);

  // Inventory runs a pull task from a lease claim loop (PullCollection.claimLoop), outside the Collect
  // call's context: the task stores the creating call's traceparent and the replica that claims it
  // runs it in a "collect task" span, child of that context (runtime's `withTraceparent`).
  it("the task run (plugin Collect, cloud-service BatchUpsert, job.finished) continues the Collect call's trace", async () => {
    const traceId = randomBytes(16).toString("hex");
    const rootSpanId = randomBytes(8).toString("hex");
    const { started } = await collectAndWait(traceId, rootSpanId);

    const call = receiver.spans.filter((s) => s.traceId === traceId);
    const context = listing(receiver.spans, traceId);
    const collect = call.find((s) => s.service === "inventory" && s.kind === SpanKind.SERVER && s.name === "cloudforet.inventory.v1.CollectorService/Collect");
    expect(collect, context).toMatchObject({ parentSpanId: rootSpanId });
    // The task run: one INTERNAL span in the call's trace, naming the job and the task.
    const task = call.find((s) => s.service === "inventory" && s.kind === SpanKind.INTERNAL && s.name === "collect task");
    expect(task, context).toMatchObject({ attributes: { "cloudforet.job_id": started.jobId } });
    expect(task!.attributes["cloudforet.task_id"], context).toMatch(/^task-/);
    // Its spans hang under it: the call's context was stored with the task, not the loop's.
    const under = (span: ReceivedSpan | undefined, ancestor: ReceivedSpan): boolean => {
      for (let s = span; s; s = call.find((p) => p.spanId === s!.parentSpanId)) if (s.spanId === ancestor.spanId) return true;
      return false;
    };
    const pluginCollect = call.find((s) => s.service === "inventory" && s.kind === SpanKind.CLIENT && s.name === "cloudforet.inventory.plugin.v1.Collector/Collect");
    expect(pluginCollect, context).toBeDefined();
    expect(under(pluginCollect, task!), context).toBe(true);
    const upsert = call.find((s) => s.service === "cloud-service" && s.kind === SpanKind.SERVER && s.name === "cloudforet.cloud_service.v1.CloudServiceService/BatchUpsert");
    expect(upsert, context).toBeDefined();
    expect(under(upsert, task!), context).toBe(true);
    const finishedPublish = call.find((s) => s.service === "inventory" && s.kind === SpanKind.PRODUCER && s.name === "publish cloudforet.inventory.job.finished");
    expect(finishedPublish, context).toBeDefined();
    expect(under(finishedPublish, task!), context).toBe(true);
    expect(call.some((s) => s.service === "notification" && s.kind === SpanKind.CONSUMER && s.parentSpanId === finishedPublish!.spanId), context).toBe(true);
    // And the task span itself hangs under the Collect call's server span: one trace, one root.
    expect(under(task, collect!), context).toBe(true);
    expectConnected(call, rootSpanId, context);
  }, 120_000);
});

let collectorReady: Promise<void> | undefined;

/** The workspace, account and plugin-backed collector the tests collect with (created once). */
function ensureCollector(): Promise<void> {
  collectorReady ??= (async () => {
    const { token } = platform!;
    const identityUrl = platform!.service("identity").url;
    await clientFor(WorkspaceService, identityUrl, token).create({ workspaceId: "ws-trace", name: "ws-trace" });
    const secret = await clientFor(SecretService, identityUrl, token).create({
      name: "trace-creds",
      workspaceId: "ws-trace",
      data: { nutanix_host: "prism.nutanix.local", nutanix_username: "admin@nutanix.com", nutanix_password: "DecryptedPassword123!", nutanix_port: 9440, verify_ssl: true },
    });
    await clientFor(ServiceAccountService, identityUrl, token).create({ serviceAccountId: "sa-trace", name: "sa-trace", provider: "nutanix", workspaceId: "ws-trace", secretId: secret.secretId });
    const collectors = clientFor(CollectorService, platform!.service("inventory").url, token);
    await collectors.create({ collectorId: "collector-trace", name: "collector-trace", provider: "nutanix", workspaceId: "ws-trace", pluginInfo: { endpoint: plugin!.url, options: { count: 5 } } });
  })();
  return collectorReady;
}

const finishedConsumed = (s: ReceivedSpan) => s.service === "notification" && s.kind === SpanKind.CONSUMER && s.name === "process cloudforet.inventory.job.finished";

/**
 * Collects as a caller whose traceparent is `00-traceId-rootSpanId-01`, waits for notification's
 * "Collection Complete" notice of the job and for its consumer span of job.finished, then lets the
 * trace's spans settle. Returns the job and inventory's rpc log line of the Collect call.
 */
async function collectAndWait(traceId: string, rootSpanId: string) {
  await ensureCollector();
  const { token } = platform!;
  const collectors = clientFor(CollectorService, platform!.service("inventory").url, token);
  const started = await collectors.collect({ collectorId: "collector-trace", serviceAccountIds: ["sa-trace"] }, { headers: { traceparent: `00-${traceId}-${rootSpanId}-01` } });

  // Read now: the process keeps its latest output only. (Output chunks are labelled "[inventory#1] ".)
  const collectLine = () =>
    platform!
      .service("inventory")
      .output()
      .split("\n")
      .find((line) => line.includes('"msg":"rpc"') && line.includes("CollectorService/Collect") && line.includes(traceId));
  await expect.poll(collectLine, { timeout: 5_000, interval: 50 }).toBeDefined();
  const rpcLine = collectLine()!.slice(collectLine()!.indexOf("{"));

  // Notification raises "Collection Complete" from inventory's job.finished event.
  const notifications = clientFor(NotificationService, platform!.service("notification").url, token);
  await expect
    .poll(async () => (await notifications.list({})).results.filter((n) => n.tags.job_id === started.jobId).length, { timeout: 30_000, interval: 200 })
    .toBe(1);

  const consumed = (s: ReceivedSpan) => finishedConsumed(s) && s.traceId === traceId;
  await expect
    .poll(() => receiver.spans.some(consumed), { timeout: 20_000, interval: 200, message: "notification's consumer span of job.finished, in the Collect call's trace" })
    .toBe(true)
    .catch((err: Error) => {
      throw new Error(`${err.message}\n${listing(receiver.spans, traceId)}`);
    });
  // Spans of a trace arrive in several batches (a parent often ends after its children): let them settle.
  await new Promise((r) => setTimeout(r, 1_500));
  return { started, rpcLine };
}

/** Every span's parent is in the trace (or is `root`, the caller's); exactly one root otherwise. */
function expectConnected(spans: ReceivedSpan[], root: string | undefined, context: string): void {
  const ids = new Set(spans.map((s) => s.spanId));
  const roots = spans.filter((s) => !ids.has(s.parentSpanId));
  if (root) expect(roots.filter((s) => s.parentSpanId !== root).map((s) => `${s.service} ${s.name}`), context).toEqual([]);
  else expect(roots.map((s) => `${s.service} ${s.name}`), context).toHaveLength(1);
}

/** The spans received, one a line, those of `traceId` marked: for failure messages. */
function listing(spans: ReceivedSpan[], traceId: string): string {
  const lines = spans
    .filter((s) => !s.name.includes("grpc.health"))
    .map((s) => `${s.traceId === traceId ? "*" : " "} ${s.traceId.slice(0, 8)} ${s.parentSpanId.slice(0, 6) || "------"}>${s.spanId.slice(0, 6)} ${s.service} ${kindName(s.kind)} ${s.name}`);
  return `spans received (* in trace ${traceId.slice(0, 8)}):\n${lines.join("\n")}`;
}

const kindName = (kind: number) => Object.entries(SpanKind).find(([, v]) => v === kind)?.[0] ?? String(kind);
