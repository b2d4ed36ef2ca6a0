import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { invalidParameter, rateLimited, toConnectError } from "@cloudforet/errors";
import { Health } from "@cloudforet/proto/grpc/health/v1/health_pb";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { retryInterceptor, type RetryOptions } from "./retry";
import { captureLogs } from "./test-logger";
import { fail, serve, startHealthServer, type TestHealthServer } from "./test-health-server";

let server: TestHealthServer;
beforeAll(async () => {
  server = await startHealthServer();
});
afterAll(() => server.close());
beforeEach(() => server.script(serve));

const withKey = { headers: { "idempotency-key": "key-1" } };
const unavailable = () => new ConnectError("upstream down", Code.Unavailable);

/** A Health client with only the retry interceptor; waits are recorded, not slept. */
function healthClient(options: RetryOptions = {}, timeoutMs?: number) {
  const delays: number[] = [];
  const { logger, lines } = captureLogs();
  const retry: Interceptor = retryInterceptor({
    logger,
    sleep: async (ms) => {
      delays.push(ms);
    },
    ...options,
  });
  const transport = createGrpcTransport({ baseUrl: server.url, interceptors: [retry], defaultTimeoutMs: timeoutMs });
  return { client: createClient(Health, transport), delays, lines };
}

async function rejection(promise: Promise<unknown>): Promise<ConnectError> {
  try {
    await promise;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("expected the call to fail");
}

describe("retryInterceptor", () => {
  it("never retries INVALID_ARGUMENT", async () => {
    server.script(fail(toConnectError(invalidParameter("Invalid service name", { parameter: "service" }), "test")));
    const { client } = healthClient();
    const err = await rejection(client.check({ service: "bad" }, withKey));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(server.calls).toBe(1);
  });

  it("succeeds on the third call after UNAVAILABLE twice, logging each retry", async () => {
    server.script(fail(unavailable), fail(unavailable), serve);
    const { client, delays, lines } = healthClient({ random: () => 0.5 });
    const res = await client.check({ service: "" }, withKey);
    expect(res.status).toBe(1); // SERVING
    expect(server.calls).toBe(3);
    // Full jitter: random * base * 2^(attempt-1) → 0.5*100, 0.5*200.
    expect(delays).toEqual([50, 100]);
    const retries = lines.filter((line) => line.msg === "retrying call");
    expect(retries).toMatchObject([
      { attempt: 1, delay_ms: 50, code: "UNAVAILABLE", method: "Check", service: "grpc.health.v1.Health" },
      { attempt: 2, delay_ms: 100, code: "UNAVAILABLE" },
    ]);
  });

  it("gives up after maxAttempts with the last error, backoff capped at maxDelayMs", async () => {
    server.script(fail(() => new ConnectError("boom", Code.Internal)));
    const { client, delays } = healthClient({ maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 250, random: () => 1 });
    const err = await rejection(client.check({}, withKey));
    expect(err.code).toBe(Code.Internal);
    expect(server.calls).toBe(5);
    expect(delays).toEqual([100, 200, 250, 250]);
  });

  it("waits at least the RetryInfo delay", async () => {
    server.script(fail(toConnectError(rateLimited("Too many requests", 400), "test")), serve);
    const { client, delays } = healthClient({ random: () => 0.5 });
    await client.check({}, withKey);
    expect(server.calls).toBe(2);
    expect(delays).toEqual([400]); // not the 50 ms the backoff alone would give
  });

  it("really sleeps the RetryInfo delay with the default sleep", async () => {
    server.script(fail(toConnectError(rateLimited("Too many requests", 150), "test")), serve);
    const { client } = healthClient({ sleep: undefined, random: () => 0 });
    const started = Date.now();
    await client.check({}, withKey);
    expect(Date.now() - started).toBeGreaterThanOrEqual(145);
    expect(server.calls).toBe(2);
  });

  it("stops at once when the next wait would pass deadlineMs", async () => {
    server.script(fail(toConnectError(rateLimited("Too many requests", 5000), "test")));
    const { client, delays } = healthClient({ deadlineMs: 1000 });
    const err = await rejection(client.check({}, withKey));
    expect(err.code).toBe(Code.ResourceExhausted);
    expect(server.calls).toBe(1);
    expect(delays).toEqual([]);
  });

  it("stops when the backoff runs into deadlineMs", async () => {
    server.script(fail(unavailable));
    const { client } = healthClient({
      sleep: undefined,
      maxAttempts: 100,
      baseDelayMs: 40,
      maxDelayMs: 40,
      random: () => 1,
      deadlineMs: 150,
    });
    const started = Date.now();
    const err = await rejection(client.check({}, withKey));
    expect(err.code).toBe(Code.Unavailable);
    expect(server.calls).toBeGreaterThanOrEqual(2);
    expect(server.calls).toBeLessThanOrEqual(4);
    expect(Date.now() - started).toBeLessThan(400);
  });

  it("respects the call's own timeout", async () => {
    server.script(fail(toConnectError(rateLimited("Too many requests", 2000), "test")));
    const { client } = healthClient({}, 1000);
    const started = Date.now();
    const err = await rejection(client.check({}, withKey));
    expect(err.code).toBe(Code.ResourceExhausted); // the real error, not a timeout later
    expect(server.calls).toBe(1);
    expect(Date.now() - started).toBeLessThan(500);
  });

  it("does not retry once the call's deadline has passed", async () => {
    server.script(async () => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      throw unavailable();
    });
    const { client } = healthClient({ sleep: undefined }, 100);
    const err = await rejection(client.check({}, withKey));
    expect(err.code).toBe(Code.DeadlineExceeded);
    expect(server.calls).toBe(1);
  });

  it("does not retry a non-idempotent call without an idempotency key", async () => {
    expect(Health.method.check.idempotency).toBe(MethodOptions_IdempotencyLevel.IDEMPOTENCY_UNKNOWN);
    server.script(fail(unavailable), serve);
    const { client } = healthClient();
    const err = await rejection(client.check({}));
    expect(err.code).toBe(Code.Unavailable);
    expect(server.calls).toBe(1);

    server.script(fail(unavailable), fail(unavailable), serve);
    await client.check({}, withKey);
    expect(server.calls).toBe(3);
  });

  it("retries a method declared NO_SIDE_EFFECTS without a key", async () => {
    const check = { ...Health.method.check, idempotency: MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS };
    const readOnlyHealth = { ...Health, methods: [check], method: { ...Health.method, check } };
    const retry = retryInterceptor({ logger: captureLogs().logger, sleep: async () => {} });
    const client = createClient(readOnlyHealth, createGrpcTransport({ baseUrl: server.url, interceptors: [retry] }));
    server.script(fail(unavailable), serve);
    await client.check({});
    expect(server.calls).toBe(2);
  });

  it("does not retry streaming calls", async () => {
    server.script(fail(unavailable));
    const { client } = healthClient();
    const consume = async () => {
      for await (const _ of client.watch({}, withKey)) void _;
    };
    const err = await rejection(consume());
    expect(err.code).toBe(Code.Unavailable);
    expect(server.calls).toBe(1);
  });
});
