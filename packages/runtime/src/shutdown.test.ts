import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { EchoService } from "@cloudforet/proto/cloudforet/testing/v1/echo_pb";
import { describe, expect, it } from "vitest";
import { createLogger } from "./logger";
import { startServer } from "./server";

async function startEcho() {
  return startServer({
    name: "echo",
    domain: "cloudforet.testing.v1",
    host: "127.0.0.1",
    port: 0,
    services: [EchoService],
    logger: createLogger("echo", "silent"),
    routes(router) {
      router.service(EchoService, {
        async echo(req) {
          await new Promise((r) => setTimeout(r, req.delayMs));
          return { message: req.message };
        },
      });
    },
  });
}

describe("graceful shutdown", () => {
  it("lets in-flight calls finish on both HTTP versions, then refuses new connections", async () => {
    const server = await startEcho();
    const h1 = createClient(EchoService, createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }));
    const h2 = createClient(EchoService, createGrpcTransport({ baseUrl: server.url }));
    await h1.echo({ message: "warm" }); // leaves an idle keep-alive socket behind
    const inFlight = [h1.echo({ message: "slow-h1", delayMs: 300 }), h2.echo({ message: "slow-h2", delayMs: 300 })];
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    await server.close(5000);
    const [a, b] = await Promise.all(inFlight);
    expect([a.message, b.message]).toEqual(["slow-h1", "slow-h2"]);
    expect(Date.now() - started).toBeLessThan(2000); // idle sockets did not hold the close
    const refused = await createClient(EchoService, createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }))
      .echo({ message: "late" })
      .catch((e) => ConnectError.from(e));
    expect(refused).toBeInstanceOf(ConnectError);
    expect((refused as ConnectError).code).toBe(Code.Unavailable);
  });

  it("reports NOT_SERVING on health as soon as shutdown begins", async () => {
    const server = await startEcho();
    const closing = server.close(1000);
    expect(server.health.get("")).toBe(2); // NOT_SERVING
    await closing;
  });
});
