import { Writable } from "node:stream";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { decodeError, invalidParameter, rateLimited } from "@cloudforet/errors";
import { Health, HealthCheckResponse_ServingStatus } from "@cloudforet/proto/grpc/health/v1/health_pb";
import { ServerReflection, ServerReflectionRequestSchema } from "@cloudforet/proto/grpc/reflection/v1/reflection_pb";
import {
  ServerReflection as ServerReflectionV1alpha,
  ServerReflectionRequestSchema as ServerReflectionRequestV1alphaSchema,
} from "@cloudforet/proto/grpc/reflection/v1alpha/reflection_pb";
import { EchoService } from "@cloudforet/proto/cloudforet/testing/v1/echo_pb";
import { grpcJsClient, grpcJsUnary } from "@cloudforet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "./logger";
import { requestIdOf } from "./request-context";
import { startServer, type RunningServer } from "./server";

const logLines: Record<string, unknown>[] = [];
const sink = new Writable({
  write(chunk, _enc, done) {
    for (const line of String(chunk).split("\n").filter(Boolean)) logLines.push(JSON.parse(line));
    done();
  },
});

let databaseUp = true;
let server: RunningServer;

beforeAll(async () => {
  server = await startServer({
    name: "echo",
    domain: "cloudforet.testing.v1",
    host: "127.0.0.1",
    port: 0,
    services: [EchoService],
    logger: createLogger("echo", "info", sink),
    maxRequestBytes: 64 * 1024,
    readiness: {
      postgres: async () => {
        if (!databaseUp) throw new Error("connection refused");
      },
    },
    routes(router) {
      router.service(EchoService, {
        async echo(req, ctx) {
          if (req.delayMs > 0) await new Promise((r) => setTimeout(r, req.delayMs));
          if (req.message === "invalid") throw invalidParameter("Unknown cloud service type", { parameter: "cloud_service_type", value: "compute.InvalidType" });
          if (req.message === "rate") throw rateLimited("Too many logins", 1500, { user_id: "u1" });
          if (req.message === "crash") throw new Error("boom: db password hunter2");
          return { message: req.message, data: req.data, requestId: requestIdOf(ctx) };
        },
        async *echoStream(req) {
          for (let index = 0; index < req.count; index++) {
            if (req.message === "crash" && index === 1) throw new Error("stream boom");
            yield { message: req.message, index };
          }
        },
        async count(requests) {
          let count = 0;
          for await (const _ of requests) count++;
          return { count };
        },
      });
    },
  });
});

afterAll(async () => {
  await server?.close(1000);
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = async (res: Response): Promise<any> => res.json();

const postJson = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });

describe("Connect JSON over HTTP/1.1", () => {
  it("answers in the seeds' dialect: snake_case, zero values printed, request id echoed", async () => {
    const res = await postJson("/cloudforet.testing.v1.EchoService/Echo", { message: "hi", data: { cpu_cores: 8 } }, { "x-request-id": "req-123" });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")).toBe("req-123");
    expect(await json(res)).toEqual({ message: "hi", data: { cpu_cores: 8 }, request_id: "req-123" });
  });

  it("accepts the camelCase spelling on input too, and generates a request id", async () => {
    const res = await postJson("/cloudforet.testing.v1.EchoService/Echo", { message: "x", delayMs: 1 });
    const body = await json(res);
    expect(body.request_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get("x-request-id")).toBe(body.request_id);
  });

  it("maps a PlatformError to INVALID_ARGUMENT with ErrorInfo (reason, domain, metadata, request id)", async () => {
    const res = await postJson("/cloudforet.testing.v1.EchoService/Echo", { message: "invalid" }, { "x-request-id": "req-err" });
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(body.code).toBe("invalid_argument");
    expect(body.message).toBe("Unknown cloud service type");
    expect(body.details[0].type).toBe("google.rpc.ErrorInfo");
    expect(body.details[0].debug).toEqual({
      reason: "ERROR_INVALID_PARAMETER",
      domain: "cloudforet.testing.v1",
      metadata: { parameter: "cloud_service_type", value: "compute.InvalidType", request_id: "req-err" },
    });
  });

  it("rejects unknown fields and wrong types with INVALID_ARGUMENT, never INTERNAL", async () => {
    for (const body of [{ nope: 1 }, { message: 42 }, { delay_ms: "soon" }]) {
      const res = await postJson("/cloudforet.testing.v1.EchoService/Echo", body);
      expect(res.status).toBe(400);
      expect((await json(res)).code).toBe("invalid_argument");
    }
  });

  it("answers an unexpected exception with INTERNAL, no internals, and logs the stack", async () => {
    const res = await postJson("/cloudforet.testing.v1.EchoService/Echo", { message: "crash" }, { "x-request-id": "req-crash" });
    expect(res.status).toBe(500);
    const body = await json(res);
    expect(body.code).toBe("internal");
    expect(body.message).toBe("internal error (request id req-crash)");
    expect(JSON.stringify(body)).not.toContain("hunter2");
    const logged = logLines.find((l) => l.request_id === "req-crash" && l.msg === "unexpected error in handler");
    expect((logged?.err as { stack: string }).stack).toContain("boom");
  });

  it("refuses a body over the limit with RESOURCE_EXHAUSTED / ERROR_PAYLOAD_TOO_LARGE", async () => {
    const res = await postJson("/cloudforet.testing.v1.EchoService/Echo", { message: "x".repeat(100 * 1024) });
    expect(res.status).toBe(413); // the taxonomy's HTTP status for ERROR_PAYLOAD_TOO_LARGE (Connect alone would say 429)
    const body = await json(res);
    expect(body.code).toBe("resource_exhausted");
    expect(body.details[0].debug.reason).toBe("ERROR_PAYLOAD_TOO_LARGE");
  });

  it("writes one structured log line per call with request id, service, method, code and duration", async () => {
    await postJson("/cloudforet.testing.v1.EchoService/Echo", { message: "log me" }, { "x-request-id": "req-log" });
    const line = logLines.find((l) => l.request_id === "req-log" && l.msg === "rpc");
    expect(line).toMatchObject({ service: "echo", method: "cloudforet.testing.v1.EchoService/Echo", code: "OK", level: "info" });
    expect(typeof line?.duration_ms).toBe("number");
  });
});

describe("gRPC and Connect over HTTP/2 on the same port", () => {
  it("serves @grpc/grpc-js clients (h2c): the echo, health and reflection", async () => {
    const address = server.url.replace("http://", "");
    const echo = grpcJsClient(EchoService, address);
    const reply = await grpcJsUnary<{ message: string }>(echo, "echo", create(EchoService.method.echo.input, { message: "grpc" }));
    expect(reply.message).toBe("grpc");
    const health = grpcJsClient(Health, address);
    const status = await grpcJsUnary<{ status: number }>(health, "check", create(Health.method.check.input, { service: "" }));
    expect(status.status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    echo.close();
    health.close();
  });

  it("carries the taxonomy as grpc-status-details-bin that grpc-js sees", async () => {
    const echo = grpcJsClient(EchoService, server.url.replace("http://", ""));
    const err: grpc.ServiceError = await grpcJsUnary(echo, "echo", create(EchoService.method.echo.input, { message: "rate" })).catch((e: grpc.ServiceError) => e) as grpc.ServiceError;
    expect(err.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(err.metadata.get("grpc-status-details-bin").length).toBe(1);
    echo.close();
  });

  it("decodes ErrorInfo and RetryInfo through a Connect gRPC client", async () => {
    const client = createClient(EchoService, createGrpcTransport({ baseUrl: server.url }));
    const err = await client.echo({ message: "rate" }).catch((e) => e);
    const decoded = decodeError(err);
    expect(decoded).toMatchObject({ code: "ERROR_RATE_LIMITED", grpcCode: Code.ResourceExhausted, retryAfterMs: 1500, metadata: { user_id: "u1" } });
  });

  it("streams both ways and maps an error in the middle of a stream", async () => {
    const client = createClient(EchoService, createConnectTransport({ baseUrl: server.url, httpVersion: "2" }));
    const got: number[] = [];
    for await (const msg of client.echoStream({ message: "ok", count: 3 })) got.push(msg.index);
    expect(got).toEqual([0, 1, 2]);
    async function* three() {
      for (let i = 0; i < 3; i++) yield { message: String(i) };
    }
    expect((await client.count(three())).count).toBe(3);
    const err = await (async () => {
      for await (const _ of client.echoStream({ message: "crash", count: 3 }));
    })().catch((e) => e);
    expect(ConnectError.from(err).code).toBe(Code.Internal);
    expect(ConnectError.from(err).rawMessage).not.toContain("stream boom");
  });

  it("answers reflection list_services and file_containing_symbol", async () => {
    const client = createClient(ServerReflection, createGrpcTransport({ baseUrl: server.url }));
    async function* ask() {
      yield create(ServerReflectionRequestSchema, { messageRequest: { case: "listServices", value: "*" } });
      yield create(ServerReflectionRequestSchema, { messageRequest: { case: "fileContainingSymbol", value: "cloudforet.testing.v1.EchoService" } });
      yield create(ServerReflectionRequestSchema, { messageRequest: { case: "fileContainingSymbol", value: "no.such.Symbol" } });
      yield create(ServerReflectionRequestSchema, { messageRequest: { case: "fileContainingSymbol", value: "google.rpc.ErrorInfo" } });
    }
    const answers = [];
    for await (const res of client.serverReflectionInfo(ask())) answers.push(res.messageResponse);
    expect(answers[0].case).toBe("listServicesResponse");
    const names = answers[0].case === "listServicesResponse" ? answers[0].value.service.map((s) => s.name) : [];
    expect(names).toEqual(["cloudforet.testing.v1.EchoService", "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"]);
    expect(answers[1].case).toBe("fileDescriptorResponse");
    // the echo file and its import of google/protobuf/struct.proto
    expect(answers[1].case === "fileDescriptorResponse" && answers[1].value.fileDescriptorProto.length).toBe(2);
    expect(answers[2].case).toBe("errorResponse");
    // error detail types resolve too, so buf curl and grpcurl can print ErrorInfo decoded
    expect(answers[3].case).toBe("fileDescriptorResponse");
  });
});

describe("operational endpoints", () => {
  it("serves liveness, readiness (503 while a dependency is down) and Prometheus metrics", async () => {
    expect((await fetch(`${server.url}/health/live`)).status).toBe(200);
    expect((await fetch(`${server.url}/health/ready`)).status).toBe(200);
    databaseUp = false;
    const down = await fetch(`${server.url}/health/ready`);
    expect(down.status).toBe(503);
    expect((await json(down)).checks.postgres).toBe("connection refused");
    expect(server.health.get("")).toBe(HealthCheckResponse_ServingStatus.NOT_SERVING);
    expect(server.health.get("liveness")).toBe(HealthCheckResponse_ServingStatus.SERVING); // unready, not dead
    databaseUp = true;
    expect((await fetch(`${server.url}/health/ready`)).status).toBe(200);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/cloudforet_rpc_requests_total\{method="cloudforet.testing.v1.EchoService\/Echo",code="OK",service="echo"\} \d+/);
    expect(metrics).toContain("cloudforet_rpc_duration_seconds_bucket");
  });
});

describe("health Watch and reflection v1alpha", () => {
  it("streams the current status, then each change", async () => {
    const client = createClient(Health, createGrpcTransport({ baseUrl: server.url }));
    const abort = new AbortController();
    const seen: number[] = [];
    const watching = (async () => {
      for await (const res of client.watch({ service: "cloudforet.testing.v1.EchoService" }, { signal: abort.signal })) {
        seen.push(res.status);
        if (seen.length === 1) server.health.set("cloudforet.testing.v1.EchoService", HealthCheckResponse_ServingStatus.NOT_SERVING);
        if (seen.length === 2) {
          server.health.set("cloudforet.testing.v1.EchoService", HealthCheckResponse_ServingStatus.SERVING);
          abort.abort();
        }
      }
    })().catch((err) => {
      if (!abort.signal.aborted) throw err;
    });
    await watching;
    expect(seen).toEqual([HealthCheckResponse_ServingStatus.SERVING, HealthCheckResponse_ServingStatus.NOT_SERVING]);
    const unknown = client.watch({ service: "no.such.Service" });
    for await (const res of unknown) {
      expect(res.status).toBe(HealthCheckResponse_ServingStatus.SERVICE_UNKNOWN);
      break;
    }
  });

  it("answers the v1alpha reflection protocol too (older grpcurl)", async () => {
    const client = createClient(ServerReflectionV1alpha, createGrpcTransport({ baseUrl: server.url }));
    async function* ask() {
      yield create(ServerReflectionRequestV1alphaSchema, { messageRequest: { case: "listServices", value: "" } });
    }
    for await (const res of client.serverReflectionInfo(ask())) {
      expect(res.messageResponse.case).toBe("listServicesResponse");
      if (res.messageResponse.case === "listServicesResponse") {
        expect(res.messageResponse.value.service.map((s) => s.name)).toContain("cloudforet.testing.v1.EchoService");
      }
    }
  });
});

describe("gRPC health on demand", () => {
  it("sends no readiness probe while nobody asks, and a Check refreshes the status for the next one", async () => {
    let probes = 0;
    let up = true;
    const quiet = await startServer({
      name: "quiet",
      domain: "cloudforet.testing.v1",
      host: "127.0.0.1",
      port: 0,
      services: [EchoService],
      logger: createLogger("quiet", "silent"),
      readinessProbeMs: 50,
      readiness: {
        postgres: async () => {
          probes++;
          if (!up) throw new Error("connection refused");
        },
      },
      routes: () => {},
    });
    try {
      await new Promise((r) => setTimeout(r, 100)); // the start-up probe settles
      const atStart = probes;
      await new Promise((r) => setTimeout(r, 400)); // eight probe intervals with nobody asking
      expect(probes).toBe(atStart);

      up = false;
      const client = createClient(Health, createGrpcTransport({ baseUrl: quiet.url }));
      // The first Check answers what is known and starts a probe; a later one sees its result.
      expect((await client.check({ service: "" })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
      await new Promise((r) => setTimeout(r, 100));
      expect(probes).toBe(atStart + 1);
      expect((await client.check({ service: "" })).status).toBe(HealthCheckResponse_ServingStatus.NOT_SERVING);
    } finally {
      await quiet.close(100);
    }
  });
});
