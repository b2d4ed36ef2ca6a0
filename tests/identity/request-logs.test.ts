import { toJson, type MessageInitShape } from "@bufbuild/protobuf";
import { ValueSchema, timestampFromDate, type Value } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { cloudServiceModule } from "@cloudforet/cloud-service";
import { ErrorCode } from "@cloudforet/errors";
import { CloudServiceTypeService } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_type_pb";
import { ApiKeyService } from "@cloudforet/proto/cloudforet/identity/v1/api_key_pb";
import { RequestLogMode_Mode, RequestLogService, type RequestLog, type RequestLogServiceListRequestSchema } from "@cloudforet/proto/cloudforet/identity/v1/request_log_pb";
import { SecretService } from "@cloudforet/proto/cloudforet/identity/v1/secret_pb";
import { UserService } from "@cloudforet/proto/cloudforet/identity/v1/user_pb";
import { WorkspaceService } from "@cloudforet/proto/cloudforet/identity/v1/workspace_pb";
import { secretCanary, testNatsUrl, uniqueSuffix } from "@cloudforet/testing";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "@cloudforet/sdk/node";
import { runCfctl } from "../cli/support";
import { ADMIN_PASSWORD, startTestPlatform, type Identity, type TestPlatform } from "../support/platform";
import { failure } from "./harness";

/**
 * Seed 001 "RequestLogs": a caller turns its own request logging on and off; every service records
 * its calls (through NATS into identity's store); List filters them, Get returns one with bodies.
 */
const suffix = uniqueSuffix();
const domainId = `domain-rl-${suffix}`;
const workspaceId = `ws-rl-${suffix}`;
let platform: TestPlatform;
let admin: Identity;
let member: Identity;
let counter = 0;
const unique = (prefix: string) => `${prefix}-${suffix}-${++counter}`;
type ListRequest = MessageInitShape<typeof RequestLogServiceListRequestSchema>;
/** A stored body as plain JSON (unset: undefined). */
const json = (value: Value | undefined) => (value ? toJson(ValueSchema, value) : undefined);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  platform = await startTestPlatform({
    modules: [cloudServiceModule],
    env: { NATS_URL: testNatsUrl(), IDENTITY_REQUEST_LOG_PRUNE_INTERVAL_SECONDS: "1" },
  });
  admin = await platform.createDomainAdmin(domainId);
  member = await platform.createWorkspaceUser(admin, `member-${suffix}`, "WORKSPACE_OWNER", workspaceId);
}, 120_000);

afterAll(async () => {
  await platform?.close();
});

const logs = (as: Identity) => platform.client(RequestLogService, as);

/** Lists as `as` until `found` picks a record (the switch and the records travel through NATS). */
async function eventuallyRecorded(as: Identity, request: ListRequest, found: (log: RequestLog) => boolean, act?: () => Promise<unknown>): Promise<RequestLog> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (act) await act().catch(() => undefined);
    const { results } = await logs(as).list({ limit: 200, ...request });
    const hit = results.find(found);
    if (hit) return hit;
    if (Date.now() > deadline) throw new Error(`no matching request log; have ${results.map((r) => r.path).join(", ")}`);
    await sleep(200);
  }
}

describe("request logs", () => {
  it("records the caller's calls on two services once started, with the right fields", async () => {
    const started = await logs(admin).start({ truncateLongMessage: true });
    expect(started.status).toMatchObject({ enabled: true, mode: RequestLogMode_Mode.TRUNCATED, callerType: "USER", callerId: "admin", domainId });

    const name = unique("type");
    const onCloudService = await eventuallyRecorded(admin, { service: "cloud-service" }, (log) => log.path.endsWith("CloudServiceTypeService/Create"), () =>
      platform.client(CloudServiceTypeService, admin).create({ group: "compute", name: unique("Instance"), provider: name }),
    );
    expect(onCloudService).toMatchObject({
      service: "cloud-service",
      path: "/cloudforet.cloud_service.v1.CloudServiceTypeService/Create",
      status: 200,
      code: "OK",
      errorType: "",
      errorSource: "",
      userId: "admin",
      domainId,
      mode: RequestLogMode_Mode.TRUNCATED,
      truncated: false,
    });
    expect(onCloudService.requestId).not.toBe("");
    expect(onCloudService.durationMs).toBeGreaterThanOrEqual(0);

    const onIdentity = await eventuallyRecorded(admin, { service: "identity" }, (log) => log.path === "/cloudforet.identity.v1.WorkspaceService/Get" && log.status === 404, () =>
      platform.client(WorkspaceService, admin).get({ workspaceId: `ws-missing-${suffix}` }),
    );
    expect(onIdentity).toMatchObject({ code: "NOT_FOUND", errorType: ErrorCode.NOT_FOUND, errorSource: "caller", workspaceId: `ws-missing-${suffix}` });

    // Get returns the bodies.
    const detail = await logs(admin).get({ requestLogId: onIdentity.requestLogId });
    expect(detail.requestLog?.requestLogId).toBe(onIdentity.requestLogId);
    expect(json(detail.requestBody)).toEqual({ workspace_id: `ws-missing-${suffix}` });
    const created = await logs(admin).get({ requestLogId: onCloudService.requestLogId });
    expect(json(created.responseBody)).toMatchObject({ group: "compute", provider: name });
  });

  it("never records, nor shows, another caller's calls", async () => {
    const mark = `ws-member-${suffix}`;
    await platform.client(WorkspaceService, member).get({ workspaceId: mark }).catch(() => undefined);
    // The admin's own call after the member's: once it is stored, the member's would have been too.
    await eventuallyRecorded(admin, {}, (log) => log.workspaceId === `ws-after-${suffix}`, () => platform.client(WorkspaceService, admin).get({ workspaceId: `ws-after-${suffix}` }));
    const { results, totalCount } = await logs(member).list({});
    expect({ results, totalCount }).toEqual({ results: [], totalCount: 0 });
    const adminLogs = await logs(admin).list({ limit: 200 });
    expect(adminLogs.results.some((log) => log.workspaceId === mark || log.userId !== "admin")).toBe(false);
    // Another caller's record by id: NOT_FOUND, as if it did not exist.
    const error = await failure(logs(member).get({ requestLogId: adminLogs.results[0]!.requestLogId }));
    expect(error.code).toBe(ErrorCode.NOT_FOUND);
    expect((await logs(member).getStatus({})).status).toMatchObject({ enabled: false, callerId: member.userId });
  });

  it("filters by status range, time window, service, path prefix and error type and source", async () => {
    const all = await logs(admin).list({ limit: 200 });
    expect(all.totalCount).toBeGreaterThanOrEqual(2);
    const errors = await logs(admin).list({ statusMin: 400, statusMax: 499 });
    expect(errors.results.length).toBeGreaterThan(0);
    expect(errors.results.every((log) => log.status >= 400 && log.status <= 499)).toBe(true);
    const successes = await logs(admin).list({ statusMax: 299 });
    expect(successes.results.every((log) => log.status === 200)).toBe(true);
    expect(successes.totalCount + errors.totalCount).toBe(all.totalCount);

    const byService = await logs(admin).list({ service: "cloud-service" });
    expect(byService.results.length).toBeGreaterThan(0);
    expect(byService.results.every((log) => log.service === "cloud-service")).toBe(true);
    const byPath = await logs(admin).list({ path: "/cloudforet.identity.v1.WorkspaceService/" });
    expect(byPath.results.length).toBeGreaterThan(0);
    expect(byPath.results.every((log) => log.path.startsWith("/cloudforet.identity.v1.WorkspaceService/"))).toBe(true);
    const byError = await logs(admin).list({ errorType: ErrorCode.NOT_FOUND, errorSource: "caller" });
    expect(byError.totalCount).toBe(errors.results.filter((log) => log.errorType === ErrorCode.NOT_FOUND).length);
    expect((await logs(admin).list({ errorSource: "server" })).totalCount).toBe(0);

    // Time window: a window in the past holds nothing; the default is the last 24 hours.
    const dayAgo = new Date(Date.now() - 24 * 3_600_000);
    const past = await logs(admin).list({ startTime: timestampFromDate(new Date(dayAgo.getTime() - 3_600_000)), endTime: timestampFromDate(dayAgo) });
    expect(past.totalCount).toBe(0);
    const explicitDay = await logs(admin).list({ startTime: timestampFromDate(dayAgo), limit: 200 });
    expect(explicitDay.totalCount).toBe(all.totalCount);

    // Paging: skip and limit, newest first.
    const page = await logs(admin).list({ skip: 1, limit: 1 });
    expect(page.results.map((log) => log.requestLogId)).toEqual([all.results[1]!.requestLogId]);
    expect(page.totalCount).toBe(all.totalCount);
  });

  it("refuses bad List parameters with INVALID_ARGUMENT naming the field", async () => {
    const cases: Array<[ListRequest, string]> = [
      [{ limit: 0 }, "limit"],
      [{ limit: 201 }, "limit"],
      [{ skip: -1 }, "skip"],
      [{ statusMin: 99 }, "status_min"],
      [{ statusMax: 600 }, "status_max"],
      [{ statusMin: 500, statusMax: 400 }, "status_min"],
      [{ errorSource: "gateway" }, "error_source"],
      [{ startTime: timestampFromDate(new Date()), endTime: timestampFromDate(new Date(Date.now() - 60_000)) }, "start_time"],
    ];
    for (const [request, parameter] of cases) {
      const error = await failure(logs(admin).list(request));
      expect({ grpc: error.grpcCode, code: error.code, parameter: error.metadata.parameter }, `case for ${parameter}`).toEqual({
        grpc: Code.InvalidArgument,
        code: ErrorCode.INVALID_PARAMETER,
        parameter,
      });
    }
    expect((await logs(admin).list({ limit: 200 })).results.length).toBeLessThanOrEqual(200);
    expect((await failure(logs(admin).get({ requestLogId: "" }))).metadata.parameter).toBe("request_log_id");
  });

  it("cuts long bodies to an 8 KB preview in TRUNCATED mode and keeps them whole in COMPLETE mode", async () => {
    const big = "x".repeat(20_000);
    const truncatedName = unique("big");
    const truncated = await eventuallyRecorded(admin, { service: "cloud-service" }, (log) => log.truncated, () =>
      platform.client(CloudServiceTypeService, admin).create({ group: "compute", name: truncatedName, metadata: { note: big } }),
    );
    const truncatedDetail = await logs(admin).get({ requestLogId: truncated.requestLogId });
    const preview = json(truncatedDetail.requestBody);
    expect(typeof preview).toBe("string");
    expect((preview as string).length).toBe(8 * 1024);

    expect((await logs(admin).start({ truncateLongMessage: false })).status?.mode).toBe(RequestLogMode_Mode.COMPLETE);
    const complete = await eventuallyRecorded(admin, { service: "cloud-service" }, (log) => log.mode === RequestLogMode_Mode.COMPLETE, () =>
      platform.client(CloudServiceTypeService, admin).create({ group: "compute", name: unique("big"), metadata: { note: big } }),
    );
    expect(complete.truncated).toBe(false);
    const completeDetail = await logs(admin).get({ requestLogId: complete.requestLogId });
    expect((json(completeDetail.requestBody) as { metadata: { note: string } }).metadata.note).toBe(big);

    // Start without a mode keeps the caller's earlier one.
    expect((await logs(admin).start({})).status?.mode).toBe(RequestLogMode_Mode.COMPLETE);
    expect((await logs(admin).start({ truncateLongMessage: true })).status?.mode).toBe(RequestLogMode_Mode.TRUNCATED);
  });

  it("redacts passwords, secret data, tokens and API keys from stored bodies", async () => {
    const password = secretCanary("request_log_password");
    const secretValue = secretCanary("request_log_secret");
    const userId = unique("canary-user");
    await platform.client(UserService, admin).create({ userId, password, name: userId });
    const user = await eventuallyRecorded(admin, { path: "/cloudforet.identity.v1.UserService/Create" }, (log) => log.status === 200);
    const userBody = json((await logs(admin).get({ requestLogId: user.requestLogId })).requestBody) as Record<string, unknown>;
    expect(userBody).toMatchObject({ user_id: userId, password: "[redacted]" });

    await platform.client(WorkspaceService, admin).get({ workspaceId }).catch(() => platform.client(WorkspaceService, admin).create({ workspaceId, name: workspaceId }));
    await platform.client(SecretService, admin).create({ name: unique("secret"), workspaceId, data: { password: secretValue, host: "db.local" } });
    const secret = await eventuallyRecorded(admin, { path: "/cloudforet.identity.v1.SecretService/Create" }, (log) => log.status === 200);
    expect(json((await logs(admin).get({ requestLogId: secret.requestLogId })).requestBody)).toMatchObject({ data: "[redacted]", workspace_id: workspaceId });

    await platform.client(ApiKeyService, admin).create({ name: unique("key") });
    const key = await eventuallyRecorded(admin, { path: "/cloudforet.identity.v1.ApiKeyService/Create" }, (log) => log.status === 200);
    const keyBody = json((await logs(admin).get({ requestLogId: key.requestLogId })).responseBody) as Record<string, unknown>;
    expect(keyBody.api_key).toBe("[redacted]");
    expect(keyBody.api_key_id).toMatch(/\S/);

    // Nothing in the table holds the canaries or a key, whatever column.
    const sql = postgres(platform.databaseUrl, { max: 1, onnotice: () => {} });
    try {
      const rows = await sql`SELECT request_body::text AS req, response_body::text AS res FROM identity.request_logs WHERE domain_id = ${domainId}`;
      const text = rows.map((r) => `${r.req} ${r.res}`).join("\n");
      expect(text).not.toContain(password);
      expect(text).not.toContain(secretValue);
      expect(text).not.toMatch(/cfk_[A-Za-z0-9_-]{43}/);
    } finally {
      await sql.end();
    }
  });

  it("records an API key's calls under its own switch", async () => {
    const { apiKey, apiKeyId } = await platform.client(ApiKeyService, admin).create({ name: unique("logged-key") });
    const asKey = await platform.login(domainId, "admin", apiKey);
    expect((await logs(asKey).getStatus({})).status).toMatchObject({ enabled: false, callerType: "API_KEY", callerId: apiKeyId });
    expect((await logs(asKey).start({})).status).toMatchObject({ enabled: true, callerType: "API_KEY", callerId: apiKeyId, mode: RequestLogMode_Mode.TRUNCATED });
    const log = await eventuallyRecorded(asKey, {}, (l) => l.path.endsWith("WorkspaceService/List"), () => platform.client(WorkspaceService, asKey).list({}));
    expect(log).toMatchObject({ apiKeyId, userId: "admin" });
    // The user sees its keys' calls; the key sees only its own.
    expect((await logs(admin).list({ limit: 200 })).results.some((l) => l.requestLogId === log.requestLogId)).toBe(true);
    expect((await logs(asKey).list({ limit: 200 })).results.every((l) => l.apiKeyId === apiKeyId)).toBe(true);
    await logs(asKey).stop({});
  });

  it("stops recording after Stop; stored records stay listed", async () => {
    const before = await logs(admin).list({ limit: 200 });
    const stopped = await logs(admin).stop({});
    expect(stopped.status).toMatchObject({ enabled: false, mode: RequestLogMode_Mode.TRUNCATED });
    await sleep(1_500); // the switch reaches every service through NATS
    const marker = `ws-stopped-${suffix}`;
    await platform.client(WorkspaceService, admin).get({ workspaceId: marker }).catch(() => undefined);
    await platform.client(CloudServiceTypeService, admin).list({}).catch(() => undefined);
    await sleep(1_500);
    const after = await logs(admin).list({ limit: 200 });
    expect(after.results.some((log) => log.workspaceId === marker)).toBe(false);
    expect(after.totalCount).toBe(before.totalCount);
    expect((await logs(admin).getStatus({})).status?.enabled).toBe(false);
  });

  it("works through the SDK (client.requestLogs) and cfctl request-logs", async () => {
    const userId = unique("sdk-user");
    await platform.client(UserService, admin).create({ userId, password: ADMIN_PASSWORD, name: userId });
    const client = new Client({ urls: { identity: platform.url("identity") }, domainId, userId, password: ADMIN_PASSWORD });
    expect(await client.requestLogs.start({ truncateLongMessage: false })).toMatchObject({ enabled: true, mode: RequestLogMode_Mode.COMPLETE, callerId: userId });
    let listed = await client.requestLogs.list({ userRequestPath: "/cloudforet.identity.v1.WorkspaceService/" });
    for (let i = 0; i < 75 && listed.totalCount === 0; i++) {
      await client.identity.workspaces.list().page(0, 1).catch(() => undefined);
      await sleep(200);
      listed = await client.requestLogs.list({ userRequestPath: "/cloudforet.identity.v1.WorkspaceService/" });
    }
    const detail = await client.requestLogs.get(listed.results[0]!.requestLogId);
    expect(detail.log.userId).toBe(userId);
    expect(detail.responseBody).toMatchObject({ total_count: expect.any(Number) });
    await expect(client.requestLogs.list({ limit: 500 })).rejects.toMatchObject({ errorCode: ErrorCode.INVALID_PARAMETER });

    const env = { CLOUDFORET_IDENTITY_URL: platform.url("identity"), CLOUDFORET_API_URL: platform.url("identity"), CLOUDFORET_DOMAIN_ID: domainId, CLOUDFORET_USER_ID: userId, CLOUDFORET_PASSWORD: ADMIN_PASSWORD };
    const list = await runCfctl(["request-logs", "list", "--path", "/cloudforet.identity.v1.WorkspaceService/"], env);
    expect(list.stderr).toBe("");
    expect(list.stdout).toContain(listed.results[0]!.requestLogId);
    const get = await runCfctl(["request-logs", "get", listed.results[0]!.requestLogId], env);
    expect(JSON.parse(get.stdout)).toMatchObject({ request_log_id: listed.results[0]!.requestLogId, user_id: userId, mode: "COMPLETE" });
    const stop = await runCfctl(["request-logs", "stop"], env);
    expect({ code: stop.code, stdout: stop.stdout }).toEqual({ code: 0, stdout: `request logging off for user ${userId} (COMPLETE)\n` });
    expect((await runCfctl(["request-logs", "list", "--limit", "0"], env)).code).not.toBe(0);
  }, 60_000);

  it("deletes records older than the retention period", async () => {
    const sql = postgres(platform.databaseUrl, { max: 1, onnotice: () => {} });
    try {
      const old = `reqlog-old-${suffix}`;
      await sql`INSERT INTO identity.request_logs (request_log_id, domain_id, user_id, request_id, service, path, status, code, duration_ms, mode, event_timestamp)
        VALUES (${old}, ${domainId}, 'admin', 'r-old', 'identity', '/cloudforet.identity.v1.WorkspaceService/List', 200, 'OK', 1, 'TRUNCATED', now() - interval '8 days')`;
      const deadline = Date.now() + 10_000;
      for (;;) {
        const [{ n }] = await sql`SELECT count(*)::int AS n FROM identity.request_logs WHERE request_log_id = ${old}`;
        if (n === 0) break;
        if (Date.now() > deadline) throw new Error("the old record was not pruned");
        await sleep(200);
      }
      const [{ kept }] = await sql`SELECT count(*)::int AS kept FROM identity.request_logs WHERE domain_id = ${domainId}`;
      expect(kept).toBeGreaterThan(0);
    } finally {
      await sql.end();
    }
  });
});
