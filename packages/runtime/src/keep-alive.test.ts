// An HTTP/1.1 client stream answered with an error before the server read its whole body must
// leave the keep-alive connection usable: the next request on it is answered, not stalled.
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EchoService } from "@cloudforet/proto/cloudforet/testing/v1/echo_pb";
import { invalidParameter } from "@cloudforet/errors";
import { createLogger } from "./logger";
import { startServer, type RunningServer } from "./server";

let server: RunningServer;

beforeAll(async () => {
  server = await startServer({
    name: "keepalive",
    domain: "cloudforet.testing.v1",
    host: "127.0.0.1",
    port: 0,
    services: [EchoService],
    logger: createLogger("keepalive", "silent"),
    routes(router) {
      router.service(EchoService, {
        async echo(req) {
          return { message: req.message };
        },
        async *echoStream() {},
        async count(requests) {
          for await (const message of requests) {
            if (message.message === "stop") throw invalidParameter("stop here", { parameter: "message" });
          }
          return { count: 0 };
        },
      });
    },
  });
});

afterAll(async () => {
  await server?.close(100);
});

function frame(json: unknown): Buffer {
  const payload = Buffer.from(typeof json === "string" ? json : JSON.stringify(json));
  const head = Buffer.alloc(5);
  head.writeUInt32BE(payload.length, 1);
  return Buffer.concat([head, payload]);
}

/** One request on the given agent (a single keep-alive socket); resolves with status and body. */
function post(agent: http.Agent, path: string, contentType: string, body: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port: server.port, method: "POST", path, agent, headers: { "content-type": contentType, "content-length": body.length } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.setTimeout(5000, () => req.destroy(new Error("request stalled")));
    req.on("error", reject);
    req.end(body);
  });
}

describe("HTTP/1.1 keep-alive after an early error", () => {
  it("answers the next request on the same connection", async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const filler = Array.from({ length: 20_000 }, (_, i) => frame({ message: `m${i}` }));
      const stream = Buffer.concat([frame({ message: "stop" }), ...filler]);
      const first = await post(agent, "/cloudforet.testing.v1.EchoService/Count", "application/connect+json", stream);
      expect(first.status).toBe(200);
      expect(first.body).toContain("stop here");
      const second = await post(agent, "/cloudforet.testing.v1.EchoService/Echo", "application/json", Buffer.from(JSON.stringify({ message: "again" })));
      expect(second).toMatchObject({ status: 200 });
      expect(JSON.parse(second.body)).toMatchObject({ message: "again" });
    } finally {
      agent.destroy();
    }
  });
});

describe("fetch (undici) keep-alive after an early error", () => {
  it("answers the next request on the same connection", async () => {
    const base = `http://127.0.0.1:${server.port}/cloudforet.testing.v1.EchoService`;
    const filler = Array.from({ length: 20_000 }, (_, i) => frame({ message: `m${i}` }));
    for (const [opening, error] of [[frame({ message: "stop" }), "stop here"], [Buffer.concat([frame({ message: "a" }), frame("string")]), "cannot decode"], [Buffer.concat([frame({ message: "a" }), frame('""'), frame({ message: "x".repeat(200_000) })]), "cannot decode"]] as const) {
      const first = await fetch(`${base}/Count`, { method: "POST", headers: { "content-type": "application/connect+json" }, body: Buffer.concat([opening, ...filler]), signal: AbortSignal.timeout(5000) });
      expect(await first.text()).toContain(error);
      const second = await fetch(`${base}/Echo`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ message: "again" }), signal: AbortSignal.timeout(5000) });
      expect(await second.json()).toMatchObject({ message: "again" });
    }
  });
});
