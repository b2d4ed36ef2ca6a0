import http from "node:http";
import net from "node:net";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { cloudServiceModule } from "@cloudforet/cloud-service";
import { CloudServiceService } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_pb";
import { AuthService } from "@cloudforet/proto/cloudforet/identity/v1/auth_pb";
import { ProjectService } from "@cloudforet/proto/cloudforet/identity/v1/project_pb";
import { WorkspaceService } from "@cloudforet/proto/cloudforet/identity/v1/workspace_pb";
import { startService, type RunningService } from "@cloudforet/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, startTestPlatform, type TestPlatform } from "../support/platform";

/**
 * Issue 20 §3: reads declare `idempotency_level = NO_SIDE_EFFECTS`, so the service client retries
 * them on UNAVAILABLE without an idempotency key, and Connect GET serves them (a cacheable URL).
 */

/** A TCP proxy that, once armed, cuts its open connections and resets the next `n` new ones. */
async function startFlakyProxy(targetPort: number) {
  const sockets = new Set<net.Socket>();
  let resetNext = 0;
  let resets = 0;
  const server = net.createServer((client) => {
    if (resetNext > 0) {
      resetNext--;
      resets++;
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(targetPort, "127.0.0.1");
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    arm(n: number) {
      resetNext = n;
      for (const socket of sockets) socket.destroy();
    },
    get resets() {
      return resets;
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let platform: TestPlatform;
let cloudService: RunningService;
let proxy: Awaited<ReturnType<typeof startFlakyProxy>>;

beforeAll(async () => {
  platform = await startTestPlatform({ modules: [] });
  proxy = await startFlakyProxy(Number(new URL(platform.url("identity")).port));
  // cloud-service reaches identity (ProjectService.Get, a read) only through the flaky proxy.
  cloudService = await startService(cloudServiceModule, {
    DATABASE_URL: platform.databaseUrl,
    CLOUD_SERVICE_ADDR: "127.0.0.1:0",
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    IDENTITY_URL: proxy.url,
  });
  await platform.client(WorkspaceService).create({ workspaceId: "ws-reads", name: "Reads" });
  await platform.client(ProjectService).create({ projectId: "project-reads", name: "Reads", workspaceId: "ws-reads" });
}, 60_000);

afterAll(async () => {
  await cloudService?.close();
  await proxy?.close();
  await platform?.close();
});

const resource = (id: string) => ({
  cloudServiceType: "compute.Instance",
  cloudServiceGroup: "Nutanix",
  cloudServiceName: id,
  provider: "nutanix",
  account: "sa-reads",
  reference: { resourceId: id },
  projectId: "project-reads",
});

describe("reads are NO_SIDE_EFFECTS", () => {
  it("declares the read RPCs and only them", () => {
    expect(ProjectService.method.get.idempotency).toBe(MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS);
    expect(ProjectService.method.list.idempotency).toBe(MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS);
    expect(CloudServiceService.method.stat.idempotency).toBe(MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS);
    expect(AuthService.method.getJwks.idempotency).toBe(MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS);
    expect(ProjectService.method.create.idempotency).toBe(MethodOptions_IdempotencyLevel.IDEMPOTENCY_UNKNOWN);
    expect(AuthService.method.login.idempotency).toBe(MethodOptions_IdempotencyLevel.IDEMPOTENCY_UNKNOWN);
  });

  it("retries a read between services when its connection to the upstream is reset", async () => {
    const client = createClient(
      CloudServiceService,
      createConnectTransport({ baseUrl: cloudService.url, httpVersion: "2", interceptors: [bearer(platform.admin.token)] }),
    );
    // Warm up: cloud-service has its identity connection (and keys) before the fault.
    await client.create(resource("vm-reads-warm"));
    proxy.arm(1);
    const created = await client.create(resource("vm-reads-retried"));
    expect(created.cloudServiceId).toBeTruthy();
    expect(proxy.resets).toBe(1); // the first attempt of ProjectService.Get was refused, the retry answered
  });
});

describe("Connect GET", () => {
  it("answers a public read as a plain URL (curl style)", async () => {
    const url = `${platform.url("identity")}/cloudforet.identity.v1.AuthService/GetJwks?connect=v1&encoding=json&message=${encodeURIComponent("{}")}`;
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { keys: unknown[] }).keys.length).toBeGreaterThan(0);
  });

  it("authenticates a GET by its Authorization header", async () => {
    const message = encodeURIComponent(JSON.stringify({ project_id: "project-reads" }));
    const url = `${platform.url("identity")}/cloudforet.identity.v1.ProjectService/Get?connect=v1&encoding=json&message=${message}`;
    expect((await fetch(url)).status).toBe(401);
    const res = await fetch(url, { headers: { authorization: `Bearer ${platform.admin.token}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ project_id: "project-reads", workspace_id: "ws-reads" });
  });

  it("serves a Connect client with useHttpGet", async () => {
    // The HTTP method is chosen below the interceptors, so a forwarding recorder sees what was sent.
    const methods: string[] = [];
    const identity = new URL(platform.url("identity"));
    const recorder = http.createServer((req, res) => {
      methods.push(req.method ?? "");
      const upstream = http.request({ host: identity.hostname, port: identity.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => recorder.listen(0, "127.0.0.1", resolve));
    try {
      const transport = createConnectTransport({
        baseUrl: `http://127.0.0.1:${(recorder.address() as net.AddressInfo).port}`,
        httpVersion: "1.1",
        useHttpGet: true,
        interceptors: [bearer(platform.admin.token)],
      });
      const projects = createClient(ProjectService, transport);
      expect((await projects.get({ projectId: "project-reads" })).workspaceId).toBe("ws-reads");
      expect((await projects.list({})).results.length).toBeGreaterThan(0);
      await createClient(WorkspaceService, transport).create({ workspaceId: "ws-reads-2", name: "Two" });
      expect(methods).toEqual(["GET", "GET", "POST"]);
    } finally {
      await new Promise<void>((resolve) => recorder.close(() => resolve()));
    }
  });
});
