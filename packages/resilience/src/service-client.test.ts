import { createServer } from "node:net";
import { Code, ConnectError } from "@connectrpc/connect";
import { notFound, toConnectError } from "@cloudforet/errors";
import { Health } from "@cloudforet/proto/grpc/health/v1/health_pb";
import { Registry } from "prom-client";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { shouldAlert } from "./categorize";
import { CIRCUIT_BREAKER_STATE_METRIC } from "./circuit-breaker";
import { ClientError } from "./client-error";
import { createServiceClient, type ServiceClientOptions } from "./service-client";
import { captureLogs } from "./test-logger";
import { fail, serve, startHealthServer, type TestHealthServer } from "./test-health-server";

let server: TestHealthServer;
beforeAll(async () => {
  server = await startHealthServer();
});
afterAll(() => server.close());
beforeEach(() => server.script(serve));

const quiet = captureLogs().logger;
const withKey = { headers: { "idempotency-key": "key-1" } };

function healthClient(options: ServiceClientOptions = {}) {
  return createServiceClient(Health, server.url, {
    logger: quiet,
    breaker: false,
    ...options,
    retries: options.retries === false ? false : { sleep: async () => {}, ...options.retries },
  });
}

async function rejection(promise: Promise<unknown>): Promise<ClientError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ClientError);
    return err as ClientError;
  }
  throw new Error("expected the call to fail");
}

describe("seed 000 status table, row by row", () => {
  // 502 and 503 both travel as UNAVAILABLE, which the taxonomy reports as 503.
  it.each([
    { http: 400, code: Code.InvalidArgument, category: "VALIDATION_ERROR", retry: false, alert: false, httpStatus: 400 },
    { http: 401, code: Code.Unauthenticated, category: "AUTH_ERROR", retry: false, alert: true, httpStatus: 401 },
    { http: 403, code: Code.PermissionDenied, category: "PERMISSION_ERROR", retry: false, alert: true, httpStatus: 403 },
    { http: 404, code: Code.NotFound, category: "NOT_FOUND_ERROR", retry: false, alert: false, httpStatus: 404 },
    { http: 409, code: Code.AlreadyExists, category: "CONFLICT_ERROR", retry: false, alert: false, httpStatus: 409 },
    { http: 429, code: Code.ResourceExhausted, category: "RATE_LIMIT_ERROR", retry: true, alert: false, httpStatus: 429 },
    { http: 500, code: Code.Internal, category: "SERVER_ERROR", retry: true, alert: true, httpStatus: 500 },
    { http: 502, code: Code.Unavailable, category: "TRANSIENT_ERROR", retry: true, alert: false, httpStatus: 503 },
    { http: 503, code: Code.Unavailable, category: "TRANSIENT_ERROR", retry: true, alert: false, httpStatus: 503 },
    { http: 504, code: Code.DeadlineExceeded, category: "TRANSIENT_ERROR", retry: true, alert: false, httpStatus: 504 },
  ])("$http $code → $category, retry $retry, alert $alert", async (row) => {
    server.script(fail(() => new ConnectError("scripted failure", row.code)));
    const err = await rejection(healthClient().check({}, withKey));
    expect(err.grpcCode).toBe(row.code);
    expect(err.category).toBe(row.category);
    expect(err.shouldRetry).toBe(row.retry);
    expect(shouldAlert(err.category)).toBe(row.alert);
    expect(err.httpStatus).toBe(row.httpStatus);
    expect(server.calls).toBe(row.retry ? 3 : 1);
  });

  it("200 OK is an answer, called once", async () => {
    const res = await healthClient().check({}, withKey);
    expect(res.status).toBe(1);
    expect(server.calls).toBe(1);
  });
});

describe("createServiceClient", () => {
  it("turns a peer's status into a ClientError with its details", async () => {
    server.script(fail(toConnectError(notFound("Collector not found", { collector_id: "collector-x" }), "cloudforet.inventory.v1")));
    const err = await rejection(healthClient().check({}, { headers: { "x-request-id": "req-42" } }));
    expect(err.toJSON()).toEqual({
      error_code: "ERROR_NOT_FOUND",
      error_message: "Collector not found",
      error_details: { collector_id: "collector-x" },
      request_id: "req-42",
      should_retry: false,
    });
  });

  it("forwards authorization and x-request-id, and nothing else", async () => {
    const incoming = new Headers({ authorization: "Bearer t0k3n", "x-request-id": "req-in", "x-other": "no" });
    await healthClient({ headers: () => incoming }).check({});
    expect(server.headers[0].get("authorization")).toBe("Bearer t0k3n");
    expect(server.headers[0].get("x-request-id")).toBe("req-in");
    expect(server.headers[0].get("x-other")).toBeNull();
  });

  it("lets a call's own headers win over forwarded ones", async () => {
    const client = healthClient({ headers: { authorization: "Bearer service", "x-request-id": "req-a" } });
    await client.check({}, { headers: { "x-request-id": "req-b" } });
    expect(server.headers[0].get("authorization")).toBe("Bearer service");
    expect(server.headers[0].get("x-request-id")).toBe("req-b");
  });

  it("sends one generated request id on every attempt and reports it", async () => {
    server.script(fail(() => new ConnectError("down", Code.Unavailable)));
    const err = await rejection(healthClient({ headers: async () => ({ authorization: "Bearer x" }) }).check({}, withKey));
    const ids = server.headers.map((h) => h.get("x-request-id"));
    expect(ids).toHaveLength(3);
    expect(ids[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(ids).size).toBe(1);
    expect(err.requestId).toBe(ids[0]);
  });

  it("reports an unreachable upstream as a transient ClientError", async () => {
    const port = await freePort();
    const client = createServiceClient(Health, `http://127.0.0.1:${port}`, {
      logger: quiet,
      breaker: false,
      retries: { sleep: async () => {} },
    });
    const err = await rejection(client.check({}));
    expect(err).toMatchObject({ errorCode: "ERROR_SERVICE_UNAVAILABLE", category: "TRANSIENT_ERROR", shouldRetry: true });
  });

  it("reports a missed deadline as ERROR_TIMEOUT", async () => {
    server.script(() => new Promise((resolve) => setTimeout(resolve, 300)));
    const err = await rejection(healthClient({ timeoutMs: 100 }).check({}));
    expect(err).toMatchObject({ errorCode: "ERROR_TIMEOUT", grpcCode: Code.DeadlineExceeded, category: "TRANSIENT_ERROR" });
  });

  it("throws ClientErrors from streams too", async () => {
    server.script(fail(() => new ConnectError("denied", Code.PermissionDenied)));
    const consume = async () => {
      for await (const _ of healthClient().watch({})) void _;
    };
    expect((await rejection(consume())).category).toBe("PERMISSION_ERROR");
  });

  it.each(["connect", "grpc-web", "grpc"] as const)("speaks %s", async (protocol) => {
    expect((await healthClient({ protocol }).check({})).status).toBe(1);
    server.script(fail(() => new ConnectError("bad", Code.InvalidArgument)));
    expect((await rejection(healthClient({ protocol }).check({}))).errorCode).toBe("ERROR_INVALID_PARAMETER");
  });

  it("installs a breaker per upstream by default, visible in the registry", async () => {
    const registry = new Registry();
    const client = createServiceClient(Health, server.url, { logger: quiet, registry, retries: false });
    await client.check({});
    const metric = await registry.getSingleMetric(CIRCUIT_BREAKER_STATE_METRIC)!.get();
    const upstream = new URL(server.url).host;
    expect(metric.values).toEqual([
      { labels: { upstream, state: "closed" }, value: 1 },
      { labels: { upstream, state: "half_open" }, value: 0 },
      { labels: { upstream, state: "open" }, value: 0 },
    ]);
  });

  it("counts each logical call once in grpc_client_*, with its final code", async () => {
    const registry = new Registry();
    const client = createServiceClient(Health, server.url, { logger: quiet, registry, retries: { maxAttempts: 3, baseDelayMs: 1 } });
    await client.check({});
    const text = await registry.metrics();
    const labels = 'grpc_service="grpc.health.v1.Health",grpc_method="Check",grpc_type="unary"';
    expect(text).toContain(`grpc_client_started_total{${labels}} 1`);
    expect(text).toContain(`grpc_client_handled_total{${labels},grpc_code="OK"} 1`);
    expect(text).toContain(`grpc_client_handling_seconds_count{${labels},grpc_code="OK"} 1`);
    server.script(fail(() => new ConnectError("bad", Code.InvalidArgument)));
    await rejection(client.check({}));
    expect(await registry.metrics()).toContain(`grpc_client_handled_total{${labels},grpc_code="INVALID_ARGUMENT"} 1`);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
