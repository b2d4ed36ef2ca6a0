// The transport of a service port against hostile or broken clients: every malformed request is
// a 400 with the taxonomy body (never a crash), every connection and body has a deadline, bodies
// are bounded and a call without credentials is refused before its body is read.
import http2 from "node:http2";
import { create } from "@bufbuild/protobuf";
import net from "node:net";
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { authenticateFailure, decodeError } from "@cloudforet/errors";
import { EchoService, EchoServiceEchoRequestSchema } from "@cloudforet/proto/cloudforet/testing/v1/echo_pb";
import { Health } from "@cloudforet/proto/grpc/health/v1/health_pb";
import { grpcJsClient, grpcJsUnary } from "@cloudforet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authenticationGate } from "./auth-gate";
import { authInterceptor, type TokenVerifier } from "./auth";
import type { Caller } from "./caller";
import { createLogger } from "./logger";
import { RESPONSE_COMPRESS_MIN_BYTES } from "./rpc-adapter";
import { ANONYMOUS_MAX_REQUEST_BYTES, startServer, type RunningServer } from "./server";

const HEADERS_TIMEOUT_MS = 400;
const BODY_TIMEOUT_MS = 600;
const IDLE_TIMEOUT_MS = 900;
const MAX_REQUEST_BYTES = 256 * 1024;
const ECHO = "/cloudforet.testing.v1.EchoService/Echo";

const caller: Caller = { domainId: "domain-test", userId: "tester", workspaceIds: [], domainAdmin: true, roles: [] };
const verify: TokenVerifier = async (token) => {
  if (token !== "good") throw authenticateFailure("Invalid or expired token", { reason: "malformed" });
  return caller;
};
/** The gate and the interceptor sharing one verification, as the service host wires them. */

/** Bodies the Echo handler actually received (a refused call must never get here). */
let echoed = 0;
let server: RunningServer;

beforeAll(async () => {
  server = await startServer({
    name: "transport",
    domain: "cloudforet.testing.v1",
    host: "127.0.0.1",
    port: 0,
    services: [EchoService],
    logger: createLogger("transport", "silent"),
    authenticate: authenticationGate(() => verify),
    interceptors: [authInterceptor(verify)],
    maxRequestBytes: MAX_REQUEST_BYTES,
    headersTimeoutMs: HEADERS_TIMEOUT_MS,
    bodyTimeoutMs: BODY_TIMEOUT_MS,
    idleTimeoutMs: IDLE_TIMEOUT_MS,
    routes(router) {
      router.service(EchoService, {
        async echo(req) {
          echoed++;
          return { message: req.message };
        },
        async *echoStream(req) {
          for (let index = 0; index < req.count; index++) {
            await new Promise((r) => setTimeout(r, req.intervalMs));
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
  await server?.close(100);
});

interface RawExchange {
  /** Everything the server sent. */
  text: string;
  /** The server closed the connection. */
  closed: boolean;
  /** Time until the close (or until we gave up). */
  ms: number;
}

/** Writes raw bytes on a fresh connection and collects the answer until the server closes (or waitMs). */
function raw(data: string | Buffer | null, waitMs = 3000): Promise<RawExchange> {
  return rawAt(server.port, data, waitMs);
}

function rawAt(port: number, data: string | Buffer | null, waitMs: number): Promise<RawExchange> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    const started = Date.now();
    let text = "";
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text, closed: false, ms: Date.now() - started });
    }, waitMs);
    socket.on("data", (d) => (text += d.toString("latin1")));
    socket.on("error", () => {});
    socket.on("close", () => {
      clearTimeout(timer);
      resolve({ text, closed: true, ms: Date.now() - started });
    });
    if (data !== null) socket.write(data);
  });
}

function statusOf(exchange: RawExchange): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(exchange.text)?.[1] ?? 0);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function bodyOf(exchange: RawExchange): any {
  return JSON.parse(exchange.text.slice(exchange.text.indexOf("\r\n\r\n") + 4));
}

/** The ErrorInfo reason of a Connect JSON error body. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const reasonOf = (body: any): string | undefined => body?.details?.find((d: { type: string }) => d.type === "google.rpc.ErrorInfo")?.debug?.reason;

async function live(): Promise<number> {
  return (await fetch(`${server.url}/health/live`)).status;
}

describe("response compression", () => {
  const echo = (message: string) =>
    fetch(`${server.url}${ECHO}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer good", "accept-encoding": "gzip" },
      body: JSON.stringify({ message }),
    });

  it("sends a small answer as it is, even to a client that accepts gzip, and compresses a large one", async () => {
    const small = await echo("x".repeat(4 * 1024));
    expect(small.status).toBe(200);
    expect(small.headers.get("content-encoding")).toBeNull();
    expect(((await small.json()) as { message: string }).message).toHaveLength(4 * 1024);
    const large = await echo("y".repeat(RESPONSE_COMPRESS_MIN_BYTES + 1024));
    expect(large.status).toBe(200);
    expect(large.headers.get("content-encoding")).toBe("gzip");
    expect(((await large.json()) as { message: string }).message).toHaveLength(RESPONSE_COMPRESS_MIN_BYTES + 1024);
  });
});

describe("every malformed request is a 400 with the taxonomy body, never a crash", () => {
  it.each([
    ["an unparsable URL (GET //[)", "GET //[ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"],
    ["malformed percent-encoding", "GET /cloudforet.testing.v1.EchoService/%E0%A4%A HTTP/1.1\r\nHost: x\r\n\r\n"],
    ["a target that is no path", "GET * HTTP/1.1\r\nHost: x\r\n\r\n"],
    ["a garbage request line", "GARBAGE\r\n\r\n"],
    ["a malformed header", "GET /health/live HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n"],
    ["an RPC with an unusable Host", `POST ${ECHO} HTTP/1.1\r\nHost: [\r\nAuthorization: Bearer good\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`],
  ])("%s", async (_name, request) => {
    const answer = await raw(request, 2000);
    expect(statusOf(answer)).toBe(400);
    const body = bodyOf(answer);
    expect(body.code).toBe("invalid_argument");
    expect(reasonOf(body)).toBe("ERROR_INVALID_PARAMETER");
    expect(await live()).toBe(200);
  });
});

describe("deadlines: no connection is held forever", () => {
  it("closes a socket that never sends a byte after the headers timeout", async () => {
    const answer = await raw(null, 5000);
    expect(answer.closed).toBe(true);
    expect(answer.text).toBe("");
    expect(answer.ms).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 50);
    expect(answer.ms).toBeLessThan(HEADERS_TIMEOUT_MS + 2000);
  });

  it("answers 408 and closes when the headers stop halfway", async () => {
    const answer = await raw("GET /health/live HTTP/1.1\r\nHost: x\r\n", 5000);
    expect(answer.closed).toBe(true);
    expect(statusOf(answer)).toBe(408);
    expect(reasonOf(bodyOf(answer))).toBe("ERROR_TIMEOUT");
  });

  it("answers ERROR_TIMEOUT and closes when a unary body stops halfway (HTTP/1.1)", async () => {
    const head = `POST ${ECHO} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"mess`;
    const answer = await raw(head, 5000);
    expect(answer.closed).toBe(true);
    expect(statusOf(answer)).toBe(408);
    expect(bodyOf(answer).code).toBe("deadline_exceeded");
    expect(reasonOf(bodyOf(answer))).toBe("ERROR_TIMEOUT");
    expect(answer.ms).toBeLessThan(BODY_TIMEOUT_MS + 2000);
  });

  it("ends an HTTP/2 stream whose unary body stops halfway", async () => {
    const session = http2.connect(server.url);
    try {
      const stream = session.request({ ":method": "POST", ":path": ECHO, "content-type": "application/json", "content-length": "100", authorization: "Bearer good" });
      stream.write('{"mess');
      const started = Date.now();
      const [status, text] = await new Promise<[number, string]>((resolve, reject) => {
        let status = 0;
        let text = "";
        stream.on("response", (h) => (status = Number(h[":status"])));
        stream.on("data", (d) => (text += d));
        stream.on("close", () => resolve([status, text]));
        stream.on("error", reject);
      });
      expect(status).toBe(408);
      expect(reasonOf(JSON.parse(text))).toBe("ERROR_TIMEOUT");
      expect(Date.now() - started).toBeLessThan(BODY_TIMEOUT_MS + 2000);
    } finally {
      session.destroy();
    }
  });

  it("closes an idle HTTP/1.1 keep-alive socket after the idle timeout", async () => {
    const answer = await raw("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n", 5000);
    expect(statusOf(answer)).toBe(200);
    expect(answer.closed).toBe(true);
    expect(answer.ms).toBeGreaterThanOrEqual(IDLE_TIMEOUT_MS - 50);
  });

  it("closes an HTTP/2 session with no open stream after the idle timeout", async () => {
    const session = http2.connect(server.url);
    const closed = new Promise<number>((resolve) => session.once("close", () => resolve(Date.now())));
    await new Promise((resolve) => session.once("connect", resolve));
    const started = Date.now();
    expect((await closed) - started).toBeLessThan(IDLE_TIMEOUT_MS + 2000);
  });

  it("does not cut a server stream quieter than every timeout, nor a client stream pausing between messages", async () => {
    const client = createClient(EchoService, createGrpcTransport({ baseUrl: server.url, interceptors: [bearer("good")] }));
    const quiet = Math.max(BODY_TIMEOUT_MS, IDLE_TIMEOUT_MS) + 300;
    const received: number[] = [];
    for await (const res of client.echoStream({ message: "slow", count: 2, intervalMs: quiet })) received.push(res.index);
    expect(received).toEqual([0, 1]);
    const counted = await client.count(
      (async function* () {
        yield { message: "a" };
        await new Promise((r) => setTimeout(r, quiet));
        yield { message: "b" };
      })(),
    );
    expect(counted.count).toBe(2);
  });
});

describe("bounded bodies", () => {
  it("refuses an oversized chunked body (no content-length) with 413 and ErrorInfo ERROR_PAYLOAD_TOO_LARGE", async () => {
    const chunk = `10000\r\n${"x".repeat(0x10000)}\r\n`;
    const request = `POST ${ECHO} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${chunk.repeat(8)}`;
    const before = echoed;
    const answer = await raw(request, 5000);
    expect(statusOf(answer)).toBe(413);
    const body = bodyOf(answer);
    expect(body.code).toBe("resource_exhausted");
    expect(reasonOf(body)).toBe("ERROR_PAYLOAD_TOO_LARGE");
    expect(echoed).toBe(before);
  });

  it("refuses an announced content-length over the limit with 413 before reading it", async () => {
    const answer = await raw(`POST ${ECHO} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good\r\nContent-Type: application/json\r\nContent-Length: 99999999\r\n\r\n`, 3000);
    expect(statusOf(answer)).toBe(413);
    expect(reasonOf(bodyOf(answer))).toBe("ERROR_PAYLOAD_TOO_LARGE");
  });

  it("refuses a gRPC message over the limit with RESOURCE_EXHAUSTED and ErrorInfo", async () => {
    const client = createClient(EchoService, createGrpcTransport({ baseUrl: server.url, interceptors: [bearer("good")] }));
    const err = await client.echo({ message: "x".repeat(MAX_REQUEST_BYTES + 10) }).catch((e) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.ResourceExhausted);
    expect(decodeError(err).code).toBe("ERROR_PAYLOAD_TOO_LARGE");
  });

  it("holds anonymous calls (public procedures) to a small body", async () => {
    const big = JSON.stringify({ service: "x".repeat(ANONYMOUS_MAX_REQUEST_BYTES) });
    const res = await fetch(`${server.url}/grpc.health.v1.Health/Check`, { method: "POST", headers: { "content-type": "application/json" }, body: big });
    expect(res.status).toBe(413);
    expect(reasonOf(await res.json())).toBe("ERROR_PAYLOAD_TOO_LARGE");
    const health = createClient(Health, createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }));
    expect((await health.check({})).status).toBe(1); // SERVING, no token needed
  });
});

describe("bounded buffering over all connections", () => {
  it("answers UNAVAILABLE when the bodies still arriving would exceed the server's budget, and recovers", async () => {
    const small = await startServer({
      name: "budget",
      domain: "cloudforet.testing.v1",
      host: "127.0.0.1",
      port: 0,
      services: [EchoService],
      logger: createLogger("budget", "silent"),
      maxRequestBytes: 64 * 1024,
      maxBufferedBodyBytes: 100 * 1024,
      routes(router) {
        router.service(EchoService, { async echo(req) { return { message: req.message }; } });
      },
    });
    try {
      const partial = (bytes: number) => `POST ${ECHO} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 65536\r\n\r\n{"message":"${"x".repeat(bytes)}`;
      const send = (data: string) => rawAt(small.port, data, 1500);
      // The first body holds 60 KiB while it waits for the rest; the second would pass 100 KiB.
      const first = send(partial(60 * 1024));
      await new Promise((r) => setTimeout(r, 200));
      const second = await send(partial(60 * 1024));
      expect(statusOf(second)).toBe(503);
      expect(reasonOf(bodyOf(second))).toBe("ERROR_SERVICE_UNAVAILABLE");
      await first; // gives up: its share goes back
      const ok = await fetch(`${small.url}${ECHO}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ message: "y".repeat(60 * 1024) }) });
      expect(ok.status).toBe(200);
    } finally {
      await small.close(100);
    }
  });
});

describe("authentication before the body", () => {
  it("answers UNAUTHENTICATED with ErrorInfo without waiting for (or reading) the body", async () => {
    const before = echoed;
    // 200 KiB announced, none sent: the answer comes anyway, so nothing waited for the body.
    const answer = await raw(`POST ${ECHO} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 204800\r\n\r\n`, 3000);
    expect(statusOf(answer)).toBe(401);
    expect(answer.closed).toBe(true); // the unread body makes the connection unusable: closed after the answer
    const body = bodyOf(answer);
    expect(body.code).toBe("unauthenticated");
    expect(reasonOf(body)).toBe("ERROR_AUTHENTICATE_FAILURE");
    expect(echoed).toBe(before);
  });

  it.each([
    ["Connect", () => createConnectTransport({ baseUrl: server.url, httpVersion: "2" })],
    ["gRPC", () => createGrpcTransport({ baseUrl: server.url })],
    ["gRPC-Web", () => createGrpcWebTransport({ baseUrl: server.url, httpVersion: "1.1" })],
  ])("answers in the protocol of the call: %s", async (_name, transport) => {
    for (const headers of [{}, { authorization: "Bearer forged" }]) {
      const client = createClient(EchoService, (transport as () => ReturnType<typeof createGrpcTransport>)());
      const err = await client.echo({ message: "x" }, { headers }).catch((e) => ConnectError.from(e));
      expect((err as ConnectError).code).toBe(Code.Unauthenticated);
      expect(decodeError(err).code).toBe("ERROR_AUTHENTICATE_FAILURE");
    }
    const ok = createClient(EchoService, (transport as () => ReturnType<typeof createGrpcTransport>)());
    expect((await ok.echo({ message: "hi" }, { headers: { authorization: "Bearer good" } })).message).toBe("hi");
  });

  it("answers grpc-js clients with grpc-status-details-bin", async () => {
    const client = grpcJsClient(EchoService, server.url.replace("http://", ""));
    try {
      const err = (await grpcJsUnary(client, "echo", create(EchoServiceEchoRequestSchema, { message: "x" })).catch((e) => e)) as { code: number; metadata: { get(key: string): unknown[] } };
      expect(err.code).toBe(16); // UNAUTHENTICATED
      const [details] = err.metadata.get("grpc-status-details-bin") as Buffer[];
      expect(details.toString("latin1")).toContain("ERROR_AUTHENTICATE_FAILURE"); // google.rpc.Status carrying the ErrorInfo
    } finally {
      client.close();
    }
  });
});

function bearer(token: string): Interceptor {
  return (next) => (req) => {
    req.header.set("authorization", `Bearer ${token}`);
    return next(req);
  };
}
