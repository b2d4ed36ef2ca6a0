import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { APIError, Client, type ClientOptions } from "@cloudforet/sdk/node";
import { expect } from "vitest";
import { ApiKeyService } from "@cloudforet/proto/cloudforet/identity/v1/api_key_pb";
import { RoleBinding_Role, UserService } from "@cloudforet/proto/cloudforet/identity/v1/user_pb";
import { ADMIN_PASSWORD, type TestPlatform } from "../support/platform";

/** The per-service URLs of a test platform, as the SDK takes them. */
export function platformUrls(platform: TestPlatform, names: string[]): NonNullable<ClientOptions["urls"]> {
  const key: Record<string, keyof NonNullable<ClientOptions["urls"]>> = {
    identity: "identity",
    inventory: "inventory",
    "cloud-service": "cloudService",
    cost: "cost",
    monitoring: "monitoring",
    notification: "notification",
  };
  return Object.fromEntries(names.map((n) => [key[n], platform.url(n)]));
}

/**
 * A domain-admin user of domain-default with an API key created through ApiKeyService, as a
 * real SDK user would get one.
 */
export async function createApiKeyUser(platform: TestPlatform, userId: string): Promise<string> {
  await platform.client(UserService).create({
    userId,
    password: ADMIN_PASSWORD,
    name: userId,
    roleBindings: [{ role: RoleBinding_Role.DOMAIN_ADMIN }],
  });
  const { apiKey } = await platform.client(ApiKeyService).create({ userId, name: `${userId}-sdk` });
  return apiKey;
}

/**
 * A real HTTP/2 proxy in front of one service: forwards every gRPC call, counts calls per
 * method and open upstream streams, and can answer the next N calls of a method with a
 * gRPC status instead of forwarding them.
 */
export class GrpcProxy {
  readonly calls = new Map<string, number>();
  /** Upstream streams currently open (a cancelled client call closes its upstream stream). */
  openStreams = 0;
  private readonly failures = new Map<string, { remaining: number; status: number; message: string }>();
  private server?: http2.Http2SecureServer | http2.Http2Server;
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  private upstream?: http2.ClientHttp2Session;

  constructor(private readonly target: string) {}

  /** The next `times` calls of `path` (`/package.Service/Method`) fail with `status`. */
  failNext(path: string, times: number, status = 14, message = "injected by the test proxy"): void {
    this.failures.set(path, { remaining: times, status, message });
  }

  callsOf(path: string): number {
    return this.calls.get(path) ?? 0;
  }

  async start(): Promise<string> {
    const server = http2.createServer();
    this.server = server;
    server.on("stream", (stream, headers) => this.handle(stream, headers));
    server.on("session", (session) => {
      this.sessions.add(session);
      session.on("close", () => this.sessions.delete(session));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.upstream?.destroy();
    for (const session of this.sessions) session.destroy();
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private session(): http2.ClientHttp2Session {
    if (!this.upstream || this.upstream.closed || this.upstream.destroyed) {
      this.upstream = http2.connect(this.target);
      this.upstream.on("error", () => undefined);
    }
    return this.upstream;
  }

  private handle(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    const path = String(headers[":path"]);
    this.calls.set(path, (this.calls.get(path) ?? 0) + 1);
    stream.on("error", () => undefined);
    const failure = this.failures.get(path);
    if (failure && failure.remaining > 0) {
      failure.remaining--;
      stream.resume();
      stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-status": String(failure.status), "grpc-message": failure.message }, { endStream: true });
      return;
    }
    const forward: http2.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(headers)) {
      if (name.startsWith(":") && name !== ":method" && name !== ":path") continue;
      if (name === "connection" || name === "host") continue;
      forward[name] = value;
    }
    const req = this.session().request(forward);
    this.openStreams++;
    let trailers: http2.IncomingHttpHeaders | undefined;
    req.on("close", () => {
      this.openStreams--;
      // An upstream reset (not a normal end) resets the client's stream too.
      if (req.rstCode !== http2.constants.NGHTTP2_NO_ERROR && !stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
    });
    req.on("error", () => undefined);
    req.on("response", (response) => {
      const out: http2.OutgoingHttpHeaders = {};
      for (const [name, value] of Object.entries(response)) if (!name.startsWith(":") || name === ":status") out[name] = value;
      if (stream.closed) return;
      if (response["grpc-status"] !== undefined) {
        stream.respond(out, { endStream: true });
        return;
      }
      stream.respond(out, { waitForTrailers: true });
      req.pipe(stream);
    });
    req.on("trailers", (t) => {
      trailers = t;
    });
    stream.on("wantTrailers", () => {
      const out: http2.OutgoingHttpHeaders = {};
      for (const [name, value] of Object.entries(trailers ?? {})) if (!name.startsWith(":")) out[name] = value;
      stream.sendTrailers(out);
    });
    stream.on("close", () => {
      if (!req.closed) req.close(http2.constants.NGHTTP2_CANCEL);
    });
    stream.pipe(req);
  }
}

export { Client };

/** The APIError a promise rejects with (fails the test when it resolves or rejects with something else). */
export async function rejection(promise: Promise<unknown>): Promise<APIError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(APIError);
    return err as APIError;
  }
  return expect.fail("expected the call to fail");
}
