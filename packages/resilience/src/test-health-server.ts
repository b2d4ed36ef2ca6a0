import { createServer, type ServerHttp2Session } from "node:http2";
import type { AddressInfo } from "node:net";
import { create } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import {
  Health,
  HealthCheckResponseSchema,
  HealthCheckResponse_ServingStatus,
} from "@cloudforet/proto/grpc/health/v1/health_pb";

/** What one Check (or Watch) call does: return to answer SERVING, throw to fail. */
export type CheckOutcome = (context: HandlerContext) => void | Promise<void>;

/**
 * A real Connect server (HTTP/2, plaintext, port 0) serving grpc.health.v1.Health whose
 * Check follows a script, for tests of the client side.
 */
export interface TestHealthServer {
  readonly url: string;
  /** Check and Watch calls received so far. */
  readonly calls: number;
  /** The request headers of each Check call. */
  readonly headers: Headers[];
  /** Play these outcomes, one per call; the last one repeats. */
  script(...outcomes: CheckOutcome[]): void;
  close(): Promise<void>;
}

export const serve: CheckOutcome = () => {};

/** An outcome that throws `err` (a fresh one per call when given a factory). */
export const fail =
  (err: Error | (() => Error)): CheckOutcome =>
  () => {
    throw typeof err === "function" ? err() : err;
  };

export async function startHealthServer(): Promise<TestHealthServer> {
  let outcomes: CheckOutcome[] = [serve];
  let calls = 0;
  const headers: Headers[] = [];
  const sessions = new Set<ServerHttp2Session>();

  const handler = connectNodeAdapter({
    routes: (router) =>
      router.service(Health, {
        async check(_req, context) {
          calls += 1;
          headers.push(context.requestHeader);
          await outcomes[Math.min(calls, outcomes.length) - 1](context);
          return create(HealthCheckResponseSchema, { status: HealthCheckResponse_ServingStatus.SERVING });
        },
        // Watch plays the same script, so a test can see whether a stream was retried.
        async *watch(_req, context) {
          calls += 1;
          headers.push(context.requestHeader);
          await outcomes[Math.min(calls, outcomes.length) - 1](context);
          yield create(HealthCheckResponseSchema, { status: HealthCheckResponse_ServingStatus.SERVING });
        },
      }),
  });
  const server = createServer(handler);
  server.on("session", (session) => {
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    get calls() {
      return calls;
    },
    headers,
    script(...next) {
      outcomes = next.length > 0 ? next : [serve];
      calls = 0;
      headers.length = 0;
    },
    close() {
      for (const session of sessions) session.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
