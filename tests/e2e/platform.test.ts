import path from "node:path";
import { fileURLToPath } from "node:url";
import { create, type DescService } from "@bufbuild/protobuf";
import { Health, HealthCheckResponse_ServingStatus } from "@cloudforet/proto/grpc/health/v1/health_pb";
import { ServerReflection, ServerReflectionRequestSchema, type ServerReflectionResponse } from "@cloudforet/proto/grpc/reflection/v1/reflection_pb";
import { createTestDatabase, grpcJsClient, grpcJsUnary, startPlatformProcesses, testNatsUrl, type PlatformProcesses, type TestDatabase, freePort } from "@cloudforet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** Each service, the gRPC services its port must list, and one it must report SERVING. */
const platform: { name: string; services: string[] }[] = [
  { name: "identity", services: ["AuthService", "SecretService", "UserService"].map((s) => `cloudforet.identity.v1.${s}`) },
  { name: "inventory", services: ["CollectorService", "JobService", "JobTaskService"].map((s) => `cloudforet.inventory.v1.${s}`) },
  { name: "cloud-service", services: ["CloudServiceService", "CloudServiceTypeService"].map((s) => `cloudforet.cloud_service.v1.${s}`) },
  { name: "cost", services: ["CostService", "DataSourceService"].map((s) => `cloudforet.cost.v1.${s}`) },
  { name: "monitoring", services: ["cloudforet.monitoring.v1.MetricService"] },
  { name: "notification", services: ["ChannelService", "NotificationService"].map((s) => `cloudforet.notification.v1.${s}`) },
  { name: "orchestration", services: ["SequenceService", "InstanceService", "CronService", "WorkerService", "TriggerService"].map((s) => `cloudforet.orchestration.v1.${s}`) },
];

let database: TestDatabase;
let processes: PlatformProcesses;

const ADMIN_PASSWORD = "e2e-Admin-Passw0rd";

beforeAll(async () => {
  database = await createTestDatabase("e2e");
  const ports = Object.fromEntries(await Promise.all(platform.map(async ({ name }) => [name, await freePort()] as const)));
  processes = await startPlatformProcesses({
    root,
    services: platform.map((s) => s.name),
    ports,
    env: {
      DATABASE_URL: database.url,
      NATS_URL: testNatsUrl(),
      IDENTITY_URL: `http://127.0.0.1:${ports.identity}`,
      ORCHESTRATION_HTTP_ADDR: `127.0.0.1:${await freePort()}`,
      CLOUDFORET_ADMIN_PASSWORD: ADMIN_PASSWORD,
      IDENTITY_SECRET_KEYS: `e2e:${Buffer.alloc(32, 7).toString("base64")}`,
      NOTIFICATION_CREDENTIALS_KEYS: `e2e:${Buffer.alloc(32, 8).toString("base64")}`,
      ORCHESTRATION_CREDENTIALS_KEYS: `e2e:${Buffer.alloc(32, 9).toString("base64")}`,
      INVENTORY_CREDENTIALS_KEYS: `e2e:${Buffer.alloc(32, 10).toString("base64")}`,
      CLOUDFORET_OUTBOUND_ALLOW: "127.0.0.1/32,::1", // local plugins, webhooks and targets
      LOG_LEVEL: "warn",
    },
    readyTimeoutMs: 90_000,
    pollIntervalMs: 250,
  });
}, 180_000);

afterAll(async () => {
  await processes?.kill();
  await database?.drop();
});

function listServices(service: DescService, address: string): Promise<string[]> {
  const client = grpcJsClient(service, address);
  return new Promise((resolve, reject) => {
    const call = client.serverReflectionInfo();
    call.on("data", (res: ServerReflectionResponse) => {
      call.end();
      client.close();
      const answer = res.messageResponse;
      if (answer.case !== "listServicesResponse") return reject(new Error(`unexpected ${answer.case}`));
      resolve(answer.value.service.map((s) => s.name));
    });
    call.on("error", reject);
    call.write(create(ServerReflectionRequestSchema, { messageRequest: { case: "listServices", value: "" } }));
  });
}

describe("the seven services as separate processes on real Postgres and NATS", () => {
  it.each(platform)("$name serves health and reflection to @grpc/grpc-js", async ({ name, services }) => {
    const { port } = processes.service(name);
    const address = `127.0.0.1:${port}`;
    const health = grpcJsClient(Health, address);
    for (const service of ["", ...services]) {
      const res = await grpcJsUnary<{ status: number }>(health, "check", create(Health.method.check.input, { service }));
      expect(res.status, `${name} health of "${service}"`).toBe(HealthCheckResponse_ServingStatus.SERVING);
    }
    health.close();
    const listed = await listServices(ServerReflection, address);
    expect(listed).toEqual(expect.arrayContaining([...services, "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection"]));
  });

  it.each(platform)("$name answers a Connect JSON call over HTTP/1.1 with plain fetch", async ({ name }) => {
    const { port } = processes.service(name);
    const res = await fetch(`http://127.0.0.1:${port}/grpc.health.v1.Health/Check`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "SERVING" });
    expect(res.headers.get("x-request-id")).toBeTruthy();
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toContain(`cloudforet_rpc_requests_total{method="grpc.health.v1.Health/Check",code="OK",service="${name}"}`);
  });

  it("a token from identity's Login is verified by another service, which refuses calls without one", async () => {
    const portOf = (name: string) => processes.service(name).port;
    const post = (service: string, path: string, body: unknown, token?: string) =>
      fetch(`http://127.0.0.1:${portOf(service)}/${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      });
    const login = await post("identity", "cloudforet.identity.v1.AuthService/Login", { domain_id: "domain-default", user_id: "admin", password: ADMIN_PASSWORD });
    expect(login.status).toBe(200);
    const { token } = (await login.json()) as { token: string };
    const listPath = "cloudforet.cloud_service.v1.CloudServiceTypeService/List";
    const query = { query: { filter: [{ k: "key", v: "compute.Instance", o: "eq" }] } };
    const anonymous = await post("cloud-service", listPath, query);
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { code: string }).code).toBe("unauthenticated");
    const res = await post("cloud-service", listPath, query, token);
    const body = (await res.json()) as { total_count: number; results: Record<string, unknown>[] };
    expect(body.total_count).toBe(1);
    expect(body.results[0]).toMatchObject({ key: "compute.Instance", is_builtin: true, provider: "" });
  });

  it("every service stops gracefully on SIGTERM with exit code 0 within 10 s", async () => {
    const started = Date.now();
    const codes = await processes.stop();
    expect(codes).toEqual(processes.all().map(() => 0));
    expect(Date.now() - started).toBeLessThan(10_000);
  }, 20_000);
});
