import type { DescService } from "@bufbuild/protobuf";
import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { createOrchestrationModule, type OrchestrationModule } from "@cloudforet/orchestration";
import { TOKEN_AUDIENCE, TOKEN_ISSUER, startService, type RunningService } from "@cloudforet/runtime";
import { createTestDatabase, TEST_OUTBOUND_ALLOW, type TestDatabase } from "@cloudforet/testing";
import { SignJWT, generateKeyPair, type CryptoKey } from "jose";
export { freePort } from "@cloudforet/testing";
import { freePort, startServiceProcess } from "@cloudforet/testing";

/** Signs access tokens the way identity does, with a key the engine under test trusts. */
export class TokenIssuer {
  private constructor(
    private readonly privateKey: CryptoKey,
    readonly publicKey: CryptoKey,
  ) {}

  static async create(): Promise<TokenIssuer> {
    const { privateKey, publicKey } = await generateKeyPair("EdDSA");
    return new TokenIssuer(privateKey, publicKey);
  }

  token(domainId: string, userId = "admin"): Promise<string> {
    return this.tokenWith(domainId, userId, [{ role: "DOMAIN_ADMIN" }]);
  }

  /** A token carrying exactly these role bindings (none: a user of the domain without any role); `akid` marks an API key login. */
  tokenWith(domainId: string, userId: string, roles: { role: string; workspace_id?: string }[], akid?: string): Promise<string> {
    const ws = [...new Set(roles.flatMap((r) => (r.workspace_id ? [r.workspace_id] : [])))];
    return new SignJWT({ did: domainId, ws, roles, typ: "access", ...(akid ? { akid } : {}) })
      .setProtectedHeader({ alg: "EdDSA" })
      .setSubject(userId)
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime("1h")
      .sign(this.privateKey);
  }
}

export interface RestReply<T = any> {
  status: number;
  body: T;
}

export interface TestOrchestration {
  database: TestDatabase;
  service: RunningService;
  module: OrchestrationModule;
  restUrl: string;
  issuer: TokenIssuer;
  /** A token of this domain (the default tenant of the tests is "acme"). */
  token(domainId?: string): Promise<string>;
  /** Calls the REST API as `as` (a domain; default "acme"); `as: null` sends no token. */
  rest<T = any>(method: string, path: string, body?: unknown, options?: { as?: string | null; headers?: Record<string, string> }): Promise<RestReply<T>>;
  /** A Connect client (HTTP/2) calling the gRPC port as the domain `as`. */
  client<S extends DescService>(service: S, as?: string): Promise<Client<S>>;
  close(): Promise<void>;
}

const bearer = (token: string): Interceptor => (next) => (req) => {
  req.header.set("authorization", `Bearer ${token}`);
  return next(req);
};

/** Required with DATABASE_URL; the same for every engine on a test's database, so each opens the others' seals. */
export const TEST_ORCHESTRATION_CREDENTIALS_KEYS = `test:${Buffer.alloc(32, 3).toString("base64")}`;

/** One orchestration service on a fresh database, with ephemeral gRPC and REST ports. */
export async function startOrchestration(env: Record<string, string> = {}, existing?: TestDatabase): Promise<TestOrchestration> {
  const database = existing ?? (await createTestDatabase("orch"));
  const issuer = await TokenIssuer.create();
  const serviceEnv = {
    DATABASE_URL: database.url,
    ORCHESTRATION_ADDR: "127.0.0.1:0",
    ORCHESTRATION_HTTP_ADDR: "127.0.0.1:0",
    ORCHESTRATION_TICK_MS: "50",
    ORCHESTRATION_CREDENTIALS_KEYS: TEST_ORCHESTRATION_CREDENTIALS_KEYS,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    CLOUDFORET_OUTBOUND_ALLOW: TEST_OUTBOUND_ALLOW, // the tests' HTTP servers listen on 127.0.0.1
    ...env,
  };
  const module = createOrchestrationModule({ env: serviceEnv, verificationKeys: async () => issuer.publicKey });
  const service = await startService(module, serviceEnv);
  const running = service;
  const restUrl = module.restUrl();
  const tokens = new Map<string, Promise<string>>();
  const token = (domainId = "acme") => {
    if (!tokens.has(domainId)) tokens.set(domainId, issuer.token(domainId));
    return tokens.get(domainId)!;
  };
  return {
    database,
    service,
    module,
    restUrl,
    issuer,
    token,
    async rest(method, path, body, options = {}) {
      const as = options.as === undefined ? "acme" : options.as;
      const headers: Record<string, string> = { ...(body !== undefined ? { "content-type": "application/json" } : {}), ...options.headers };
      if (as !== null) headers.authorization = `Bearer ${await token(as)}`;
      const res = await fetch(`${restUrl}${path}`, { method, headers, body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body) });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text === "" ? undefined : JSON.parse(text);
      } catch {
        /* text body (metrics) */
      }
      return { status: res.status, body: parsed as any };
    },
    async client(service, as = "acme") {
      return createClient(service, createConnectTransport({ baseUrl: running.url, httpVersion: "2", interceptors: [bearer(await token(as))] }));
    },
    async close() {
      await service.close();
      if (!existing) await database.drop();
    },
  };
}

/** Polls until `check` returns a value that is not undefined. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 10_000, what = "condition"): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Creates a sequence and returns its id. */
export async function createSequence(orch: TestOrchestration, name: string, blocks: unknown[], extra: Record<string, unknown> = {}): Promise<string> {
  const res = await orch.rest("POST", "/sequences", { tenant_id: "acme", namespace: "default", name, version: 1, blocks, ...extra });
  if (res.status !== 201) throw new Error(`creating sequence ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id;
}

/** Starts an instance and waits until it reaches a state in `until` (default: any terminal state). */
export async function runInstance(
  orch: TestOrchestration,
  sequenceId: string,
  fields: Record<string, unknown> = {},
  until: string[] = ["completed", "failed", "cancelled"],
  timeoutMs = 10_000,
): Promise<any> {
  const res = await orch.rest("POST", "/instances", { sequence_id: sequenceId, tenant_id: "acme", namespace: "default", ...fields });
  if (res.status !== 201) throw new Error(`creating instance: ${res.status} ${JSON.stringify(res.body)}`);
  return waitForState(orch, res.body.id, until, timeoutMs);
}

export async function waitForState(orch: TestOrchestration, id: string, until: string[], timeoutMs = 10_000): Promise<any> {
  return eventually(
    async () => {
      const got = await orch.rest("GET", `/instances/${id}`);
      return until.includes(got.body?.state) ? got.body : undefined;
    },
    timeoutMs,
    `instance ${id} to reach ${until.join("/")}`,
  );
}

/** The outputs of an instance by block id (the latest of each). */
export async function outputsOf(orch: TestOrchestration, id: string): Promise<Record<string, any>> {
  const res = await orch.rest("GET", `/instances/${id}/outputs`);
  return Object.fromEntries((res.body as any[]).map((o) => [o.block_id, o.output]));
}

export interface TestHttpServer {
  url: string;
  /** Every request received: method, path with query, parsed JSON body (or text), time. */
  requests: { method: string; path: string; body: unknown; at: number }[];
  close(): Promise<void>;
}

/** A local HTTP server for http_request, llm_call and tool_call steps; `reply` decides each answer. */
export async function startHttpServer(
  reply: (req: { method: string; path: string; body: unknown; count: number }) => { status?: number; body?: unknown; delayMs?: number } | Promise<{ status?: number; body?: unknown; delayMs?: number }>,
): Promise<TestHttpServer> {
  const { createServer } = await import("node:http");
  const requests: TestHttpServer["requests"] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      /* keep text */
    }
    const entry = { method: req.method ?? "GET", path: req.url ?? "/", body, at: Date.now() };
    requests.push(entry);
    const answer = await reply({ ...entry, count: requests.length });
    if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
    const payload = typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body ?? {});
    if (!res.destroyed) {
      res.writeHead(answer.status ?? 200, { "content-type": "application/json" });
      res.end(payload);
    }
  });
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface EngineProcess {
  child: import("node:child_process").ChildProcess;
  restUrl: string;
  /** stdout and stderr so far. */
  output(): string;
  exited: Promise<number | null>;
  /** The value of an orch8_* counter of this process. */
  counter(name: string): Promise<number>;
}

/** Starts `node --import tsx services/orchestration/src/main.ts` as its own process and waits until it is ready. */
export async function spawnEngine(databaseUrl: string, env: Record<string, string> = {}): Promise<EngineProcess> {
  const path = await import("node:path");
  const { fileURLToPath } = await import("node:url");
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
  const [grpcPort, restPort] = [await freePort(), await freePort()];
  const restUrl = `http://127.0.0.1:${restPort}`;
  const engine = await startServiceProcess({
    root,
    name: "orchestration",
    port: grpcPort,
    env: {
      DATABASE_URL: databaseUrl,
      ORCHESTRATION_CREDENTIALS_KEYS: TEST_ORCHESTRATION_CREDENTIALS_KEYS,
      ORCHESTRATION_HTTP_ADDR: `127.0.0.1:${restPort}`,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "warn",
      CLOUDFORET_OUTBOUND_ALLOW: TEST_OUTBOUND_ALLOW,
      ...env,
    },
    readyUrl: `${restUrl}/health/ready`,
    pollIntervalMs: 100,
    keepOutput: Infinity,
  });
  return {
    child: engine.child,
    restUrl,
    output: () => engine.output(),
    exited: engine.exited,
    async counter(name) {
      const text = await (await fetch(`${restUrl}/metrics`)).text();
      const match = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+(?:\\.\\d+)?)$`, "m").exec(text);
      return match ? Number(match[1]) : 0;
    },
  };
}

/** Deletes the JetStream durable the engines of one database share for wake-ups (tests leave none behind). */
export async function deleteWakeupConsumer(databaseUrl: string): Promise<void> {
  const { createHash } = await import("node:crypto");
  const { jetstreamManager } = await import("@nats-io/jetstream");
  const { connectTestNats, testNatsUrl } = await import("@cloudforet/testing");
  const scope = createHash("sha256").update(databaseUrl).digest("hex").slice(0, 16);
  const nc = await connectTestNats(testNatsUrl());
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.consumers.delete("CLOUDFORET", `orchestration-wakeup-${scope}`).catch(() => false);
  } finally {
    await nc.close();
  }
}
