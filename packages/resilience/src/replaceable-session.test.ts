import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { create } from "@bufbuild/protobuf";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { Health, HealthCheckResponseSchema, HealthCheckResponse_ServingStatus } from "@cloudforet/proto/grpc/health/v1/health_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServiceClient } from "./service-client";
import { captureLogs } from "./test-logger";

/**
 * A server whose first HTTP/2 session refuses every stream with ENHANCE_YOUR_CALM, as a Node server
 * over its session memory does after one oversized upload; later sessions are served normally.
 */
let server: http2.Http2Server;
let url: string;
let sessions = 0;
const open = new Set<http2.Http2Session>();
beforeAll(async () => {
  const handler = connectNodeAdapter({
    routes(router) {
      router.service(Health, { check: () => create(HealthCheckResponseSchema, { status: HealthCheckResponse_ServingStatus.SERVING }), watch: async function* () {} });
    },
  });
  const poisoned = new WeakSet<http2.Http2Session>();
  server = http2.createServer();
  server.on("session", (session) => {
    open.add(session);
    if (++sessions === 1) poisoned.add(session);
  });
  server.on("stream", (stream) => {
    if (poisoned.has(stream.session!)) stream.close(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
  });
  server.on("request", (req, res) => {
    if (!poisoned.has(req.stream.session!)) handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  // The client keeps its (new) connection open; close it from this side.
  for (const session of open) session.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe("a session the upstream refuses streams on", () => {
  it("is replaced: the next call opens a new connection and succeeds, and the breaker stays closed", async () => {
    const { logger, lines } = captureLogs();
    const client = createServiceClient(Health, url, { logger, retries: false, breaker: { failureThreshold: 1 } });
    await expect(client.check({})).rejects.toMatchObject({ message: expect.stringContaining("ENHANCE_YOUR_CALM") });
    expect(await client.check({})).toMatchObject({ status: HealthCheckResponse_ServingStatus.SERVING });
    expect(sessions).toBe(2);
    expect(lines.some((line) => line.msg === "HTTP/2 session refused a call; new calls use a new connection")).toBe(true);
  });
});
