// The SDK against the running platform: every manager's happy path and its error classes,
// logging in with an API key created through ApiKeyService.
import { cloudServiceModule } from "@cloudforet/cloud-service";
import { costModule } from "@cloudforet/cost";
import { inventoryModule } from "@cloudforet/inventory";
import { monitoringModule } from "@cloudforet/monitoring";
import { notificationModule } from "@cloudforet/notification";
import { Channel_ChannelType } from "@cloudforet/proto/cloudforet/notification/v1/channel_pb";
import { Job_Status, JobServiceWatchResponse_Kind } from "@cloudforet/proto/cloudforet/inventory/v1/job_pb";
import { JobTask_Status } from "@cloudforet/proto/cloudforet/inventory/v1/job_task_pb";
import { ApiKey_State } from "@cloudforet/proto/cloudforet/identity/v1/api_key_pb";
import {
  APIError,
  AuthenticationError,
  Client,
  ConflictError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  ValidationError,
} from "@cloudforet/sdk/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../inventory/inventory-platform";
import { notificationTestEnv } from "../notification/support/env";
import { startTestPlatform, type TestPlatform } from "../support/platform";
import { createApiKeyUser, platformUrls, rejection } from "./support";

const SERVICES = ["identity", "inventory", "cloud-service", "cost", "monitoring", "notification"];

let platform: TestPlatform;
let client: Client;
let apiKey: string;

beforeAll(async () => {
  const cloudServicePort = await freePort();
  platform = await startTestPlatform({
    modules: [cloudServiceModule, inventoryModule, costModule, monitoringModule, notificationModule],
    env: notificationTestEnv({
      IDENTITY_SECRET_KEYS: `test:${Buffer.alloc(32, 1).toString("base64")}`,
      CLOUD_SERVICE_ADDR: `127.0.0.1:${cloudServicePort}`,
      CLOUD_SERVICE_URL: `http://127.0.0.1:${cloudServicePort}`,
    }),
  });
  apiKey = await createApiKeyUser(platform, "sdk-admin");
  client = new Client({ apiKey, userId: "sdk-admin", urls: platformUrls(platform, SERVICES) });
  await client.identity.workspaces.create({ workspaceId: "ws-sdk", name: "SDK" });
  await client.identity.projects.create({ projectId: "project-sdk", name: "SDK project", workspaceId: "ws-sdk" });
}, 120_000);

afterAll(async () => {
  await platform?.close();
});

describe("logging in", () => {
  it("logs in with the API key once and reuses the token", async () => {
    await client.login();
    await client.identity.workspaces.get("ws-sdk");
    expect(client.session.stats.logins).toBe(1);
  });

  it("a wrong API key is an AuthenticationError (401) with the taxonomy's code", async () => {
    const bad = new Client({ apiKey: "cfk_not-a-key", userId: "sdk-admin", urls: platformUrls(platform, SERVICES), retries: false });
    const err = await rejection(bad.identity.workspaces.get("ws-sdk"));
    expect(err).toBeInstanceOf(AuthenticationError);
    expect(err).toMatchObject({ errorCode: "ERROR_AUTHENTICATE_FAILURE", httpStatus: 401, grpcCode: 16, shouldRetry: false });
  });

  it("too many failed logins are a RateLimitError (429) carrying the server's retry delay", async () => {
    const guesser = new Client({ apiKey: "cfk_wrong", userId: "sdk-locked-out", urls: platformUrls(platform, SERVICES), retries: false });
    const errors: APIError[] = [];
    for (let i = 0; i < 7; i++) errors.push(await rejection(guesser.login()));
    expect(errors[0]).toBeInstanceOf(AuthenticationError);
    const limited = errors.at(-1)!;
    expect(limited).toBeInstanceOf(RateLimitError);
    expect(limited).toMatchObject({ errorCode: "ERROR_RATE_LIMITED", httpStatus: 429, shouldRetry: true });
    expect(limited.retryAfterMs).toBeGreaterThan(0);
  });

  it("a refused token is replaced by one re-login, invisibly", async () => {
    const fresh = new Client({ apiKey, userId: "sdk-admin", urls: platformUrls(platform, SERVICES) });
    await fresh.login();
    // Simulate a token the server stops accepting (e.g. its signing key was retired).
    (fresh.session as unknown as { tokens: { token: string } }).tokens.token = "not-a-jwt";
    const ws = await fresh.identity.workspaces.get("ws-sdk");
    expect(ws.data.name).toBe("SDK");
    expect(fresh.session.stats.logins).toBe(2);
  });
});

describe("identity managers", () => {
  it("workspaces: create, get, list, update, delete; NotFound and Conflict", async () => {
    const ws = await client.identity.workspaces.create({ workspaceId: "ws-tmp", name: "Temp", tags: { a: "1" } });
    expect(ws.id).toBe("ws-tmp");
    await ws.update({ tags: { b: "2" } });
    expect(ws.data.tags).toEqual({ a: "1", b: "2" });
    expect((await client.identity.workspaces.list().all()).map((w) => w.id)).toEqual(expect.arrayContaining(["ws-sdk", "ws-tmp"]));
    const dup = await rejection(client.identity.workspaces.create({ workspaceId: "ws-tmp", name: "Again" }));
    expect(dup).toBeInstanceOf(ConflictError);
    expect(dup.httpStatus).toBe(409);
    await ws.delete();
    const gone = await rejection(client.identity.workspaces.get("ws-tmp"));
    expect(gone).toBeInstanceOf(NotFoundError);
    expect(gone.toJSON()).toEqual({
      error_code: "ERROR_NOT_FOUND",
      error_message: gone.message,
      error_details: expect.objectContaining({ workspace_id: "ws-tmp" }),
      request_id: expect.any(String),
      should_retry: false,
    });
  });

  it("projects: create, refresh, update, list by filter", async () => {
    const project = await client.identity.projects.create({ projectId: "project-tmp", name: "Tmp", workspaceId: "ws-sdk" });
    await project.update({ tags: { env: "test" } });
    await project.refresh();
    expect(project.data.tags).toEqual({ env: "test" });
    const found = await client.identity.projects.list({ filter: [{ k: "tags.env", v: "test" }] }).all();
    expect(found.map((p) => p.id)).toEqual(["project-tmp"]);
    await project.delete();
    expect(await rejection(client.identity.projects.get("project-tmp"))).toBeInstanceOf(NotFoundError);
  });

  it("users: create, roles, password; a workspace member is refused with PermissionDeniedError", async () => {
    const user = await client.identity.users.create({ userId: "member-1", password: "Member-Passw0rd!", name: "Member" });
    await user.addRole("WORKSPACE_MEMBER", "ws-sdk");
    expect(user.data.roleBindings.map((b) => b.workspaceId)).toEqual(["ws-sdk"]);
    await user.setPassword("Member-Passw0rd-2!");
    const member = new Client({ password: "Member-Passw0rd-2!", userId: "member-1", urls: platformUrls(platform, SERVICES) });
    const denied = await rejection(member.identity.workspaces.create({ workspaceId: "ws-nope", name: "No" }));
    expect(denied).toBeInstanceOf(PermissionDeniedError);
    expect(denied.httpStatus).toBe(403);
    expect((await client.identity.users.list({ keyword: "member-1" }).all()).map((u) => u.id)).toEqual(["member-1"]);
  });

  it("service accounts and secrets: set is an upsert by name, getData decrypts; bad input is ValidationError", async () => {
    const secret = await client.secrets.set("nutanix-creds", { nutanix_host: "prism.local", nutanix_password: "s3cret" }, { workspaceId: "ws-sdk" });
    const again = await client.secrets.set("nutanix-creds", { nutanix_host: "prism2.local", nutanix_password: "s3cret" }, { workspaceId: "ws-sdk" });
    expect(again.id).toBe(secret.id);
    expect(await secret.getData()).toEqual({ nutanix_host: "prism2.local", nutanix_password: "s3cret" });
    const sa = await client.identity.serviceAccounts.create({
      serviceAccountId: "sa-sdk-01",
      name: "sa-sdk-01",
      provider: "nutanix",
      projectId: "project-sdk",
      workspaceId: "ws-sdk",
      secretId: secret.id,
    });
    await sa.update({ tags: { cluster: "c1" } });
    expect((await client.identity.serviceAccounts.get("sa-sdk-01")).data.tags).toEqual({ cluster: "c1" });
    expect((await client.secrets.list().all()).map((s) => s.id)).toContain(secret.id);
    const invalid = await rejection(client.secrets.set("", { a: 1 }));
    expect(invalid).toBeInstanceOf(ValidationError);
    expect(invalid).toMatchObject({ httpStatus: 400, errorCode: "ERROR_INVALID_PARAMETER", shouldRetry: false });
    expect(invalid.details.parameter).toBeTruthy();
  });

  it("API keys: create (plaintext once), list, revoke; a revoked key cannot log in", async () => {
    const { key, apiKey: plaintext } = await client.identity.apiKeys.create({ userId: "sdk-admin", name: "short-lived" });
    expect(plaintext).toMatch(/^cfk_/);
    const other = new Client({ apiKey: plaintext, userId: "sdk-admin", urls: platformUrls(platform, SERVICES) });
    await other.login();
    await key.revoke();
    expect(key.data.state).toBe(ApiKey_State.REVOKED);
    expect((await client.identity.apiKeys.list().all()).map((k) => k.id)).toContain(key.id);
    const refused = new Client({ apiKey: plaintext, userId: "sdk-admin", urls: platformUrls(platform, SERVICES) });
    expect(await rejection(refused.login())).toBeInstanceOf(AuthenticationError);
    await key.delete();
    expect(await rejection(client.identity.apiKeys.get(key.id))).toBeInstanceOf(NotFoundError);
  });
});

describe("inventory managers", () => {
  it("collectors, jobs and job tasks: a push collection from create to complete, watched to the end", async () => {
    const secret = await client.secrets.set("nutanix-push", { nutanix_host: "h" }, { workspaceId: "ws-sdk" });
    await client.identity.serviceAccounts.create({ serviceAccountId: "sa-push-01", name: "sa-push-01", provider: "nutanix", projectId: "project-sdk", workspaceId: "ws-sdk", secretId: secret.id });
    const collector = await client.inventory.collectors.create({ collectorId: "collector-sdk", name: "SDK collector", provider: "nutanix", workspaceId: "ws-sdk" });
    await collector.update({ tags: { owner: "sdk" } });
    expect((await client.inventory.collectors.list({ filter: [{ k: "collector_id", v: "collector-sdk" }] }).all()).map((c) => c.data.tags)).toEqual([{ owner: "sdk" }]);

    const job = await client.inventory.jobs.create({ collectorId: "collector-sdk", name: "SDK job", serviceAccountIds: ["sa-push-01"] });
    const events: JobServiceWatchResponse_Kind[] = [];
    const watching = (async () => {
      for await (const event of job.watch()) events.push(event.kind);
    })();
    const task = await client.inventory.jobTasks.create({ jobId: job.id, serviceAccountId: "sa-push-01", secretId: secret.id, status: JobTask_Status.CREATED });
    await task.updateProgress({ status: JobTask_Status.IN_PROGRESS, progress: 50 });
    await task.complete({ status: JobTask_Status.FINISHED, createdCount: 3 });
    expect(task.data.status).toBe(JobTask_Status.FINISHED);
    await watching;
    expect(events[0]).toBe(JobServiceWatchResponse_Kind.SNAPSHOT);
    expect(job.done).toBe(true);
    expect(job.data.status).toBe(Job_Status.FINISHED);
    await job.refresh();
    expect(job.data).toMatchObject({ status: Job_Status.FINISHED, createdCount: 3, succeededTaskCount: 1 });
    expect((await client.inventory.jobTasks.list({ filter: [{ k: "job_id", v: job.id }] }).all()).map((t) => t.id)).toEqual([task.id]);
    expect((await client.inventory.jobs.list({ filter: [{ k: "collector_id", v: "collector-sdk" }] }).all()).map((j) => j.id)).toEqual([job.id]);
  });

  it("a job can be cancelled through its handle; cancelling it again is a ConflictError", async () => {
    const job = await client.inventory.jobs.create({ collectorId: "collector-sdk", name: "to cancel", serviceAccountIds: ["sa-push-01"] });
    await job.cancel();
    expect(job.data.status).toBe(Job_Status.CANCELED);
    const again = await rejection(job.cancel());
    expect(again).toBeInstanceOf(ConflictError);
    expect(await rejection(client.inventory.jobs.get("job-does-not-exist"))).toBeInstanceOf(NotFoundError);
    expect(await rejection(client.inventory.collectors.create({ collectorId: "collector-sdk", name: "dup", provider: "nutanix", workspaceId: "ws-sdk" }))).toBeInstanceOf(ConflictError);
  });
});

describe("cloud service managers", () => {
  it("types and services: create, upsert, update, get, list, stat, delete", async () => {
    const type = await client.cloudServiceTypes.create({ name: "SdkMachine", group: "sdk", key: "sdk.SdkMachine", provider: "nutanix" });
    expect((await client.cloudServiceTypes.get({ key: "sdk.SdkMachine", provider: "nutanix" })).id).toBe(type.id);
    const vm = await client.cloudServices.upsert({
      cloudServiceType: "sdk.SdkMachine",
      cloudServiceGroup: "Compute",
      cloudServiceName: "vm-1",
      provider: "nutanix",
      account: "sa-sdk-01",
      workspaceId: "ws-sdk",
      projectId: "project-sdk",
      data: { state: "ON", cpu_cores: 4 },
      reference: { resourceId: "vm-sdk-1" },
    });
    await vm.update({ tags: { env: "prod" } });
    expect((await client.cloudServices.get(vm.id)).data.tags).toEqual({ env: "prod" });
    const stat = await client.cloudServices.stat({ aggregate: [{ group: { keys: ["provider"] }, statistics: { total: { operator: "count" } } }] });
    expect(stat).toEqual(expect.arrayContaining([expect.objectContaining({ provider: "nutanix" })]));
    const invalid = await rejection(client.cloudServices.upsert({ cloudServiceType: "not a type", cloudServiceGroup: "X", cloudServiceName: "x", provider: "nutanix", workspaceId: "ws-sdk", reference: { resourceId: "x" } }));
    expect(invalid).toBeInstanceOf(ValidationError);
    await vm.delete();
    // Deletion is soft: the resource stays readable, marked DELETED.
    expect((await vm.refresh()).data.state).toBe("DELETED");
    expect(await rejection(client.cloudServices.get("cs-does-not-exist"))).toBeInstanceOf(NotFoundError);
  });
});

describe("cost managers", () => {
  it("data sources and costs: create, batchCreate (idempotent), list, analyze", async () => {
    const ds = await client.cost.dataSources.create({ name: "SDK costs", provider: "nutanix", workspaceId: "ws-sdk" });
    const row = await client.cost.costs.create({ dataSourceId: ds.id, date: "2024-01-15", cost: 12.5, currency: "USD", resourceId: "vm-1" });
    expect((await row.refresh()).data.cost).toBe(12.5);
    const items = [
      { date: "2024-01-15", cost: 1.5, resourceId: "vm-2" },
      { date: "2024-01-16", cost: 2.5, resourceId: "vm-3" },
    ];
    const first = await client.cost.costs.batchCreate(ds.id, items, { idempotencyKey: "sdk-batch-1" });
    const replay = await client.cost.costs.batchCreate(ds.id, items, { idempotencyKey: "sdk-batch-1" });
    expect(first).toMatchObject({ createdCount: 2, failedCount: 0 });
    expect(replay.jobId).toBe(first.jobId);
    expect(await client.cost.costs.list({ filter: [{ k: "data_source_id", v: ds.id }] }).count()).toBe(3);
    const analysis = await client.cost.costs.analyze({ start: "2024-01-01", end: "2024-01-31" });
    expect(analysis.results.reduce((sum, r) => sum + r.cost, 0)).toBeCloseTo(16.5);
    expect(await rejection(client.cost.costs.create({ dataSourceId: ds.id, date: "2024-01-15", cost: -1, resourceId: "vm-1" }))).toBeInstanceOf(ValidationError);
    expect(await rejection(client.cost.dataSources.get("ds-nope"))).toBeInstanceOf(NotFoundError);
    await ds.delete();
  });
});

describe("monitoring managers", () => {
  it("metrics: push, pushBatch, ingest, list, getData; bad input is ValidationError", async () => {
    const at = new Date(Date.now() - 60_000);
    const timestamp = { seconds: BigInt(Math.floor(at.getTime() / 1000)), nanos: 0 };
    await client.monitoring.metrics.push({ resourceId: "vm-sdk-1", metricName: "cpu.utilization", value: 45.2, unit: "percent", timestamp });
    const batch = await client.monitoring.metrics.pushBatch({ resourceId: "vm-sdk-1", timestamp, metrics: [{ metricName: "memory.utilization", value: 60, unit: "percent" }] });
    expect(batch.createdCount).toBe(1);
    const ingested = await client.monitoring.metrics.ingest(
      Array.from({ length: 30 }, (_, i) => ({ resourceId: "vm-sdk-2", metricName: "cpu.utilization", value: i, unit: "percent", timestamp })),
      { batchSize: 7 },
    );
    expect(ingested.createdCount).toBe(30);
    expect(await client.monitoring.metrics.list({ filter: [{ k: "resource_id", v: "vm-sdk-2" }], pageSize: 8 }).count()).toBe(30);
    expect(await client.monitoring.metrics.list({ filter: [{ k: "resource_id", v: "vm-sdk-2" }], pageSize: 8 }).all()).toHaveLength(30);
    const series = await client.monitoring.metrics.getData({
      resourceIds: ["vm-sdk-1"],
      metricName: "cpu.utilization",
      start: { seconds: timestamp.seconds - 3600n, nanos: 0 },
      end: { seconds: timestamp.seconds + 60n, nanos: 0 },
    });
    expect(series).toBeDefined();
    expect(await rejection(client.monitoring.metrics.push({ resourceId: "", metricName: "cpu", value: 1 }))).toBeInstanceOf(ValidationError);
  });
});

describe("notification managers", () => {
  it("channels and notifications: create, send, list, markRead, get", async () => {
    const channel = await client.notification.channels.create({ name: "sdk-hook", channelType: Channel_ChannelType.WEBHOOK, options: { url: "http://127.0.0.1:9/hook" } });
    expect((await client.notification.channels.get(channel.id)).data.name).toBe("sdk-hook");
    const sent = await client.notification.notifications.send({ title: "Collection Complete", message: "Successfully collected 3 resources.", tags: { source: "sdk" } });
    await sent.markRead();
    expect(sent.data.isRead).toBe(true);
    expect((await client.notification.notifications.list({ filter: [{ k: "tags.source", v: "sdk" }] }).all()).map((n) => n.id)).toEqual([sent.id]);
    expect(await rejection(client.notification.notifications.get("notification-nope"))).toBeInstanceOf(NotFoundError);
    expect(await rejection(client.notification.notifications.send({ title: "", message: "x" }))).toBeInstanceOf(ValidationError);
    await channel.delete();
  });
});
