import { Code, ConnectError } from "@connectrpc/connect";
import { invalidParameter, notFound, toConnectError } from "@cloudforet/errors";
import { Health } from "@cloudforet/proto/grpc/health/v1/health_pb";
import { Registry } from "prom-client";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CIRCUIT_BREAKER_STATE_METRIC, createCircuitBreaker, reportCircuitStates, type CircuitBreakerOptions, type UpstreamCircuitBreaker } from "./circuit-breaker";
import { ClientError } from "./client-error";
import { createServiceClient } from "./service-client";
import { captureLogs } from "./test-logger";
import { fail, serve, startHealthServer, type TestHealthServer } from "./test-health-server";

let server: TestHealthServer;
beforeAll(async () => {
  server = await startHealthServer();
});
afterAll(() => server.close());
beforeEach(() => server.script(serve));

const unavailable = () => new ConnectError("upstream down", Code.Unavailable);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let breaker: UpstreamCircuitBreaker;
afterEach(() => breaker?.shutdown());

/** A Health client for upstream "inventory" behind a fresh breaker, without retries. */
function setUp(options: CircuitBreakerOptions = {}) {
  const registry = new Registry();
  const { logger, lines } = captureLogs();
  breaker = createCircuitBreaker("inventory", { failureThreshold: 3, resetTimeoutMs: 100, logger, registry, ...options });
  const client = createServiceClient(Health, server.url, { breaker, retries: false, logger });
  const gauge = async () => {
    // One 1/0 series per state: the state whose series is 1 (and exactly one is).
    const metric = await registry.getSingleMetric(CIRCUIT_BREAKER_STATE_METRIC)!.get();
    const mine = metric.values.filter((v) => v.labels.upstream === "inventory");
    expect(mine.map((v) => v.labels.state).sort()).toEqual(["closed", "half_open", "open"]);
    const current = mine.filter((v) => v.value === 1);
    expect(current).toHaveLength(1);
    return current[0].labels.state;
  };
  const transitions = () => lines.filter((line) => line.upstream === "inventory").map((line) => line.state);
  return { client, gauge, transitions };
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

describe("createCircuitBreaker", () => {
  it("opens after the threshold of transient failures, then fails fast", async () => {
    server.script(fail(unavailable));
    const { client, gauge, transitions } = setUp();
    expect(await gauge()).toBe("closed");

    for (let i = 0; i < 3; i++) {
      expect((await rejection(client.check({}))).errorCode).toBe("ERROR_SERVICE_UNAVAILABLE");
    }
    expect(server.calls).toBe(3);
    expect(breaker.state).toBe("open");
    expect(await gauge()).toBe("open");
    expect(transitions()).toEqual(["open"]);

    const started = Date.now();
    const fast = await rejection(client.check({}));
    expect(Date.now() - started).toBeLessThan(50);
    expect(server.calls).toBe(3); // the upstream never saw it
    expect(fast).toMatchObject({
      errorCode: "ERROR_SERVICE_UNAVAILABLE",
      grpcCode: Code.Unavailable,
      category: "TRANSIENT_ERROR",
      shouldRetry: true,
      details: { upstream: "inventory", circuit_state: "open" },
    });
    expect(fast.message).toContain('upstream "inventory" is open');
    expect(fast.retryAfterMs).toBeGreaterThan(0);
    expect(fast.retryAfterMs).toBeLessThanOrEqual(100);
  });

  it("recovers through half-open after resetTimeout", async () => {
    server.script(fail(unavailable));
    const { client, gauge, transitions } = setUp();
    for (let i = 0; i < 3; i++) await rejection(client.check({}));
    expect(breaker.state).toBe("open");

    await sleep(150);
    expect(breaker.state).toBe("half-open");
    expect(await gauge()).toBe("half_open");

    server.script(serve);
    await client.check({});
    expect(server.calls).toBe(1);
    expect(breaker.state).toBe("closed");
    expect(await gauge()).toBe("closed");
    expect(transitions()).toEqual(["open", "half-open", "closed"]);
  });

  it("opens again when the half-open probe fails", async () => {
    server.script(fail(unavailable));
    const { client, transitions } = setUp();
    for (let i = 0; i < 3; i++) await rejection(client.check({}));
    await sleep(150);
    await rejection(client.check({})); // the probe
    expect(server.calls).toBe(4);
    expect(breaker.state).toBe("open");
    expect(transitions()).toEqual(["open", "half-open", "open"]);
  });

  it("is not tripped by errors that are not TRANSIENT or SERVER", async () => {
    const { client, gauge } = setUp();
    server.script(fail(toConnectError(notFound("No such collector", { collector_id: "c-1" }), "test")));
    for (let i = 0; i < 5; i++) expect((await rejection(client.check({}))).category).toBe("NOT_FOUND_ERROR");
    server.script(fail(toConnectError(invalidParameter("Bad name", { parameter: "name" }), "test")));
    for (let i = 0; i < 5; i++) expect((await rejection(client.check({}))).category).toBe("VALIDATION_ERROR");
    server.script(fail(() => new ConnectError("denied", Code.PermissionDenied)));
    for (let i = 0; i < 5; i++) expect((await rejection(client.check({}))).category).toBe("PERMISSION_ERROR");
    expect(server.calls).toBe(5);
    expect(breaker.state).toBe("closed");
    expect(await gauge()).toBe("closed");
  });

  it("counts consecutive failures: a success in between starts over", async () => {
    const { client } = setUp();
    server.script(fail(unavailable), fail(unavailable), serve, fail(unavailable), fail(unavailable), serve);
    for (let i = 0; i < 6; i++) await client.check({}).catch(() => undefined);
    expect(server.calls).toBe(6);
    expect(breaker.state).toBe("closed");
  });

  it("counts INTERNAL as a failure too", async () => {
    server.script(fail(() => new ConnectError("boom", Code.Internal)));
    const { client } = setUp();
    for (let i = 0; i < 3; i++) expect((await rejection(client.check({}))).category).toBe("SERVER_ERROR");
    expect(breaker.state).toBe("open");
  });

  it("can open on an error percentage over a minimum volume instead", async () => {
    const { client } = setUp({ errorThresholdPercentage: 50, volumeThreshold: 4 });
    server.script(fail(unavailable), serve, fail(unavailable), fail(unavailable));
    for (let i = 0; i < 3; i++) await client.check({}).catch(() => undefined);
    expect(breaker.state).toBe("closed"); // 2 of 3 failed, but below the volume
    await client.check({}).catch(() => undefined);
    expect(breaker.state).toBe("open"); // 3 of 4 = 75% > 50%
  });

  it("stops a retry loop once it opens (retry sits outside the breaker)", async () => {
    server.script(fail(unavailable));
    const { logger } = captureLogs();
    breaker = createCircuitBreaker("identity", { failureThreshold: 2, resetTimeoutMs: 10_000, registry: new Registry(), logger });
    const client = createServiceClient(Health, server.url, {
      breaker,
      logger,
      timeoutMs: 5000,
      retries: { maxAttempts: 5, baseDelayMs: 1, maxDelayMs: 1 },
    });
    const started = Date.now();
    const err = await rejection(client.check({}, { headers: { "idempotency-key": "k" } }));
    expect(server.calls).toBe(2);
    // The open circuit's RetryInfo (next probe in 10 s) lies beyond the 5 s deadline: no waiting.
    expect(err.message).toContain('upstream "identity" is open');
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe("breakers kept elsewhere", () => {
  it("reports their states in the same gauge when scraped, and drops an upstream no longer listed", async () => {
    const registry = new Registry();
    let states: Array<{ upstream: string; state: "closed" | "half-open" | "open" }> = [
      { upstream: "https://hooks.example", state: "open" },
      { upstream: "smtp://mail.example:25", state: "half-open" },
    ];
    const stop = reportCircuitStates(async () => states, registry);
    const text = await registry.metrics();
    expect(text).toContain('cloudforet_circuit_breaker_state{upstream="https://hooks.example",state="open"} 1');
    expect(text).toContain('cloudforet_circuit_breaker_state{upstream="https://hooks.example",state="closed"} 0');
    expect(text).toContain('cloudforet_circuit_breaker_state{upstream="smtp://mail.example:25",state="half_open"} 1');
    states = [{ upstream: "https://hooks.example", state: "closed" }];
    const after = await registry.metrics();
    expect(after).toContain('cloudforet_circuit_breaker_state{upstream="https://hooks.example",state="closed"} 1');
    expect(after).not.toContain("smtp://mail.example:25");
    stop();
    expect(await registry.metrics()).not.toContain("hooks.example");
  });
});
