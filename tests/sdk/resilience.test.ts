// The SDK's behaviour on the wire, against the running platform behind a real HTTP/2 proxy:
// retries of transient failures (and only those), idempotency keys, stream cancellation,
// auto-pagination over 2,500 items, deadlines, and the error classes across package copies.
import { cloudServiceModule } from "@cloudforet/cloud-service";
import { inventoryModule } from "@cloudforet/inventory";
import { JobServiceWatchResponse_Kind } from "@cloudforet/proto/cloudforet/inventory/v1/job_pb";
import { Code } from "@connectrpc/connect";
import * as sdk from "@cloudforet/sdk/node";
import { APIError, AuthenticationError, Client, ConnectionError, NotFoundError, ServerError, TimeoutError, ValidationError } from "@cloudforet/sdk/node";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { freePort } from "../inventory/inventory-platform";
import { startTestPlatform, type TestPlatform } from "../support/platform";
import { createApiKeyUser, GrpcProxy, rejection } from "./support";

const CS = "/cloudforet.cloud_service.v1.CloudServiceService";
const JOBS = "/cloudforet.inventory.v1.JobService";

let platform: TestPlatform;
let apiKey: string;
let csProxy: GrpcProxy;
let inventoryProxy: GrpcProxy;
let client: Client;

const vm = (i: number) => ({
  cloudServiceType: "sdkpage.Machine",
  cloudServiceGroup: "sdkpage",
  cloudServiceName: `vm-${String(i).padStart(5, "0")}`,
  provider: "nutanix",
  account: "sa-page",
  workspaceId: "ws-page",
  data: { index: i },
  reference: { resourceId: `vm-page-${i}` },
});

beforeAll(async () => {
  const cloudServicePort = await freePort();
  platform = await startTestPlatform({
    modules: [cloudServiceModule, inventoryModule],
    env: { CLOUD_SERVICE_ADDR: `127.0.0.1:${cloudServicePort}`, CLOUD_SERVICE_URL: `http://127.0.0.1:${cloudServicePort}` },
  });
  apiKey = await createApiKeyUser(platform, "sdk-wire");
  csProxy = new GrpcProxy(platform.url("cloud-service"));
  inventoryProxy = new GrpcProxy(platform.url("inventory"));
  client = new Client({
    apiKey,
    userId: "sdk-wire",
    urls: { identity: platform.url("identity"), cloudService: await csProxy.start(), inventory: await inventoryProxy.start() },
    retries: { maxAttempts: 3, baseDelayMs: 20 },
  });
  await client.identity.workspaces.create({ workspaceId: "ws-page", name: "Paging" });
  await client.cloudServiceTypes.create({ name: "Machine", group: "sdkpage", key: "sdkpage.Machine", provider: "nutanix" });
  await client.identity.projects.create({ projectId: "project-page", name: "Paging", workspaceId: "ws-page" });
  const secret = await client.secrets.set("page-creds", { nutanix_host: "h" }, { workspaceId: "ws-page" });
  await client.identity.serviceAccounts.create({ serviceAccountId: "sa-page", name: "sa-page", provider: "nutanix", projectId: "project-page", workspaceId: "ws-page", secretId: secret.id });
}, 120_000);

afterAll(async () => {
  await csProxy?.close();
  await inventoryProxy?.close();
  await platform?.close();
});

describe("retries", () => {
  it("a read that gets UNAVAILABLE twice is retried and succeeds, invisibly", async () => {
    const created = await client.cloudServices.upsert(vm(-1));
    csProxy.failNext(`${CS}/Get`, 2);
    const before = csProxy.callsOf(`${CS}/Get`);
    const got = await client.cloudServices.get(created.id);
    expect(got.data.cloudServiceId).toBe(created.id);
    expect(csProxy.callsOf(`${CS}/Get`) - before).toBe(3);
  });

  it("a non-idempotent write is retried too, because it carries an idempotency key", async () => {
    csProxy.failNext(`${CS}/Upsert`, 2);
    const before = csProxy.callsOf(`${CS}/Upsert`);
    const written = await client.cloudServices.upsert(vm(-2));
    expect(written.data.name).toBe(vm(-2).cloudServiceName);
    expect(csProxy.callsOf(`${CS}/Upsert`) - before).toBe(3);
  });

  it("gives up after maxAttempts with a retryable ServerError", async () => {
    csProxy.failNext(`${CS}/Get`, 5);
    const before = csProxy.callsOf(`${CS}/Get`);
    const err = await rejection(client.cloudServices.get("cs-anything"));
    expect(err).toBeInstanceOf(ServerError);
    expect(err).toMatchObject({ grpcCode: Code.Unavailable, httpStatus: 503, shouldRetry: true, errorCode: "ERROR_SERVICE_UNAVAILABLE" });
    expect(csProxy.callsOf(`${CS}/Get`) - before).toBe(3);
    csProxy.failNext(`${CS}/Get`, 0);
  });

  it("does not retry INVALID_ARGUMENT (from the service, or injected)", async () => {
    let before = csProxy.callsOf(`${CS}/Upsert`);
    const invalid = await rejection(client.cloudServices.upsert({ ...vm(-3), cloudServiceType: "not a type" }));
    expect(invalid).toBeInstanceOf(ValidationError);
    expect(invalid.details).toMatchObject({ parameter: "cloud_service_type" });
    expect(csProxy.callsOf(`${CS}/Upsert`) - before).toBe(1);

    csProxy.failNext(`${CS}/Get`, 1, 3, "bad");
    before = csProxy.callsOf(`${CS}/Get`);
    expect(await rejection(client.cloudServices.get("cs-x"))).toBeInstanceOf(ValidationError);
    expect(csProxy.callsOf(`${CS}/Get`) - before).toBe(1);
  });

  it("does not retry NOT_FOUND", async () => {
    const before = csProxy.callsOf(`${CS}/Get`);
    expect(await rejection(client.cloudServices.get("cs-missing"))).toBeInstanceOf(NotFoundError);
    expect(csProxy.callsOf(`${CS}/Get`) - before).toBe(1);
  });
});

describe("auto-pagination", () => {
  it("iterates 2,500 cloud services page by page, each once, in a stable order", async () => {
    const upserted = await client.cloudServices.batchUpsert(
      Array.from({ length: 2500 }, (_, i) => vm(i)),
      { batchSize: 500 },
    );
    expect(upserted).toMatchObject({ createdCount: 2500, failedCount: 0 });
    const query = { filter: [{ k: "cloud_service_type", v: "sdkpage.Machine" }, { k: "account", v: "sa-page" }, { k: "data.index", v: 0, o: "gte" }] };
    const before = csProxy.callsOf(`${CS}/List`);
    const started = Date.now();
    const seen = new Set<string>();
    for await (const cs of client.cloudServices.list(query)) seen.add(cs.id);
    const elapsed = Date.now() - started;
    expect(seen.size).toBe(2500);
    expect(csProxy.callsOf(`${CS}/List`) - before).toBe(5); // 500 per page
    expect(elapsed).toBeLessThan(20_000);

    const pager = client.cloudServices.list({ ...query, sort: { key: "name" }, pageSize: 1000 });
    const page = await pager.page(2000, 1000);
    expect(page.totalCount).toBe(2500);
    expect(page.items).toHaveLength(500);
    expect(page.items[0].data.name).toBe("vm-02000");
    expect(await pager.count()).toBe(2500);
    const all = await pager.all();
    expect(all.map((c) => c.data.name)).toEqual(Array.from({ length: 2500 }, (_, i) => vm(i).cloudServiceName));

    // Breaking out early fetches no further page.
    const listed = csProxy.callsOf(`${CS}/List`);
    for await (const _ of client.cloudServices.list(query)) break;
    expect(csProxy.callsOf(`${CS}/List`) - listed).toBe(1);
  });
});

describe("streams", () => {
  it("breaking out of a Watch loop cancels the server call", async () => {
    await client.inventory.collectors.create({ collectorId: "collector-watch", name: "Watch", provider: "nutanix", workspaceId: "ws-page" });
    const job = await client.inventory.jobs.create({ collectorId: "collector-watch", name: "watched", serviceAccountIds: ["sa-page"] });
    expect(inventoryProxy.openStreams).toBe(0);
    for await (const event of job.watch()) {
      expect(event.kind).toBe(JobServiceWatchResponse_Kind.SNAPSHOT);
      expect(inventoryProxy.openStreams).toBe(1);
      break;
    }
    await expect.poll(() => inventoryProxy.openStreams, { timeout: 5000, interval: 20 }).toBe(0);
    await job.cancel();
  });

  it("aborting the signal ends the stream and cancels the call", async () => {
    const job = await client.inventory.jobs.create({ collectorId: "collector-watch", name: "aborted", serviceAccountIds: ["sa-page"] });
    const controller = new AbortController();
    const events: number[] = [];
    const err = await rejection(
      (async () => {
        for await (const event of client.inventory.jobs.watch(job.id, { signal: controller.signal })) {
          events.push(event.kind);
          controller.abort();
        }
      })(),
    );
    expect(err.grpcCode).toBe(Code.Canceled);
    expect(events).toEqual([JobServiceWatchResponse_Kind.SNAPSHOT]);
    await expect.poll(() => inventoryProxy.openStreams, { timeout: 5000, interval: 20 }).toBe(0);
    await job.cancel();
  });
});

describe("deadlines, signals and connection failures", () => {
  it("a per-call timeoutMs that passes is a TimeoutError", async () => {
    const err = await rejection(client.cloudServices.list({}, { timeoutMs: 1 }).page());
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err).toMatchObject({ errorCode: "ERROR_TIMEOUT", httpStatus: 504, grpcCode: Code.DeadlineExceeded });
  });

  it("an aborted signal stops the call", async () => {
    const controller = new AbortController();
    controller.abort();
    const err = await rejection(client.cloudServices.get("cs-x", { signal: controller.signal }));
    expect(err.grpcCode).toBe(Code.Canceled);
    expect(err.shouldRetry).toBe(false);
  });

  it("an unreachable service is a ConnectionError after the retries", async () => {
    const closedPort = await freePort();
    const offline = new Client({ token: "t", urls: { cloudService: `http://127.0.0.1:${closedPort}` }, retries: { maxAttempts: 2, baseDelayMs: 10 } });
    const err = await rejection(offline.cloudServices.get("cs-x"));
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err).toMatchObject({ grpcCode: Code.Unavailable, shouldRetry: true });
  });
});

describe("configuration", () => {
  it("fromEnv reads the key, user, base URL and per-service overrides", async () => {
    const env = {
      CLOUDFORET_API_KEY: apiKey,
      CLOUDFORET_USER_ID: "sdk-wire",
      CLOUDFORET_DOMAIN_ID: "domain-default",
      CLOUDFORET_API_URL: "http://127.0.0.1",
      CLOUDFORET_IDENTITY_URL: platform.url("identity"),
    };
    const fromEnv = Client.fromEnv({}, env);
    expect((await fromEnv.identity.workspaces.get("ws-page")).data.name).toBe("Paging");
    const missingUser = (() => {
      try {
        Client.fromEnv({}, { CLOUDFORET_API_KEY: apiKey, CLOUDFORET_API_URL: "http://127.0.0.1" });
      } catch (err) {
        return err;
      }
    })();
    expect(missingUser).toBeInstanceOf(ValidationError);
    expect((missingUser as ValidationError).details).toEqual({ parameter: "userId" });
  });

  it("a base URL puts every service on its standard port", () => {
    const options = { baseUrl: "https://cloudforet.example.com", urls: { cost: "http://cost.internal:9000/" } };
    expect(sdk.SERVICE_PORTS).toEqual({ identity: 50051, inventory: 50052, cloudService: 50053, cost: 50054, monitoring: 50055, notification: 50056, orchestration: 50057 });
    expect(sdk.serviceUrl(options, "identity")).toBe("https://cloudforet.example.com:50051");
    expect(sdk.serviceUrl(options, "cloudService")).toBe("https://cloudforet.example.com:50053");
    expect(sdk.serviceUrl(options, "cost")).toBe("http://cost.internal:9000");
    expect(sdk.serviceUrl({ baseUrl: "10.0.0.5" }, "notification")).toBe("http://10.0.0.5:50056");
    expect(() => sdk.serviceUrl({}, "inventory")).toThrow(ValidationError);
  });
});

describe("error classes", () => {
  it("instanceof works across two copies of the package, by class", async () => {
    vi.resetModules();
    const copy = (await import("@cloudforet/sdk")) as typeof sdk;
    expect(copy.NotFoundError).not.toBe(NotFoundError);
    const init = { message: "gone", grpcCode: Code.NotFound, errorCode: "ERROR_NOT_FOUND", details: { job_id: "job-1" }, requestId: "req-1" };
    const foreign = new copy.NotFoundError(init);
    expect(foreign).toBeInstanceOf(NotFoundError);
    expect(foreign).toBeInstanceOf(APIError);
    expect(foreign).not.toBeInstanceOf(AuthenticationError);
    expect(new NotFoundError(init)).toBeInstanceOf(copy.NotFoundError);
    expect(new NotFoundError(init)).toBeInstanceOf(copy.APIError);
    expect(new ServerError({ ...init, grpcCode: Code.Internal, errorCode: "ERROR_UNKNOWN" })).not.toBeInstanceOf(copy.NotFoundError);
    expect({}).not.toBeInstanceOf(APIError);
    expect(foreign.toJSON()).toEqual({ error_code: "ERROR_NOT_FOUND", error_message: "gone", error_details: { job_id: "job-1" }, request_id: "req-1", should_retry: false });
    expect(foreign.httpStatus).toBe(404);
    expect(foreign.name).toBe("NotFoundError");
  });
});
