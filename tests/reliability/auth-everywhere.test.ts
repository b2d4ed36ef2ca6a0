import { cloudServiceModule } from "@cloudforet/cloud-service";
import { costModule } from "@cloudforet/cost";
import { inventoryModule } from "@cloudforet/inventory";
import { monitoringModule } from "@cloudforet/monitoring";
import { notificationModule } from "@cloudforet/notification";
import { orchestrationModule } from "@cloudforet/orchestration";
import { afterAll, describe, expect, it } from "vitest";
import { startTestPlatform } from "../support/platform";
import { postClientStream, postUnary, type RawAnswer } from "./connect-raw";
import { createObjects } from "./fixtures";
import { reflectMethods, type ReflectedMethod } from "./reflection";

/**
 * Issue 9 §2 "Auth everywhere": every RPC of every service (found through reflection) refuses a
 * call without a token, except the documented public ones; domain B's administrator cannot reach
 * domain A's objects by id (NOT_FOUND or PERMISSION_DENIED) nor see them in any List.
 */

/** Orchestration is covered unless RELIABILITY_ORCHESTRATION=0. */
const withOrchestration = process.env.RELIABILITY_ORCHESTRATION !== "0";
const SERVICES = ["identity", "inventory", "cloud-service", "cost", "monitoring", "notification", ...(withOrchestration ? ["orchestration"] : [])];
/** README "Logging in": the RPCs anyone may call (besides health and reflection). */
const PUBLIC = new Set(["cloudforet.identity.v1.AuthService/Login", "cloudforet.identity.v1.AuthService/Refresh", "cloudforet.identity.v1.AuthService/GetJwks"]);
/** RPCs that make new objects or read collections; the others act on one object named by id. */
const NOT_BY_ID = /^(Create|BatchCreate|Upsert|BatchUpsert|Set|Send|Push|PushBatch|Ingest|Login|Refresh|GetJwks|List\w*|Stat|Analyze|Query)$/;
const isCollection = (m: ReflectedMethod) =>
  /^(List\w*|Stat|Analyze|Query)$/.test(m.method.name) || m.procedure === "cloudforet.monitoring.v1.MetricService/GetData" || m.procedure === "cloudforet.orchestration.v1.WorkerService/PollTasks";
/** Fields an RPC needs besides ids to get as far as the lookup. */
const EXTRA: Record<string, Record<string, unknown>> = {
  "cloudforet.inventory.v1.JobTaskService/Complete": { status: "FINISHED" },
  "cloudforet.identity.v1.UserService/AddRoleBinding": { workspace_id: "ws-auth-a" },
  "cloudforet.identity.v1.UserService/RemoveRoleBinding": { workspace_id: "ws-auth-a" },
  "cloudforet.orchestration.v1.SequenceService/GetByName": { tenant_id: "domain-default", namespace: "default", name: "auth-a-seq" },
  "cloudforet.orchestration.v1.WorkerService/PollTasks": { worker_id: "worker-b", limit: 10 },
  "cloudforet.orchestration.v1.WorkerService/CompleteTask": { worker_id: "worker-a" },
  "cloudforet.orchestration.v1.WorkerService/FailTask": { worker_id: "worker-a", message: "stolen" },
  "cloudforet.orchestration.v1.WorkerService/HeartbeatTask": { worker_id: "worker-a" },
  "cloudforet.orchestration.v1.InstanceService/UpdateState": { state: "PAUSED" },
  "cloudforet.orchestration.v1.InstanceService/SendSignal": { signal_type: "pause" },
  "cloudforet.orchestration.v1.InstanceService/BulkUpdateState": { filter: { tenant_id: "domain-default" }, state: "CANCELLED" },
  "cloudforet.monitoring.v1.MetricService/GetData": { metric_name: "cpu.utilization", start: "2020-01-01T00:00:00Z", end: "2030-01-01T00:00:00Z", period: 86400 },
  "cloudforet.cost.v1.CostService/Analyze": { granularity: "DAILY", start: "2024-01-01", end: "2024-12-31" },
  "cloudforet.cloud_service.v1.CloudServiceService/Stat": { query: { aggregate: [{ group: { keys: ["provider"] } }] } },
};

/** Valid values for the other fields of an Update/Set call, so the call gets as far as the lookup. */
const FILLERS: Record<string, unknown> = {
  name: "stolen",
  password: "Stolen-Passw0rd!",
  data: { password: "stolen" },
  title: "stolen",
  message: "stolen",
  tags: { stolen: "yes" },
  progress: 50,
  role: "WORKSPACE_OWNER",
};

const platform = await startTestPlatform({ modules: [inventoryModule, cloudServiceModule, costModule, monitoringModule, notificationModule, ...(withOrchestration ? [orchestrationModule] : [])] });
const idsA = await createObjects(platform, platform.admin, "auth-a");
const domainB = await platform.createDomainAdmin("domain-auth-b");
await createSharedReferences();
/** The targets: A's objects, with a workspace and project B has no namesake of. */
const targets: Record<string, string> = { ...idsA, domain_id: "domain-default", ...(await createUnsharedObjects()) };
const orchestrationIds = withOrchestration ? await createOrchestrationObjects() : {};
const methods = await reflectMethods(SERVICES.map((name) => platform.url(name)));

/** The ids of `ids` that an OK answer shows (GetData echoes the asked resource ids: only points count). */
function leakedIds(m: ReflectedMethod, body: unknown, ids: Record<string, string>): string[] {
  if (m.procedure === "cloudforet.monitoring.v1.MetricService/GetData") {
    const series = ((body as { series?: { resource_id: string; points?: unknown[] }[] }).series ?? []);
    return series.filter((s) => (s.points ?? []).length > 0).map((s) => s.resource_id);
  }
  const text = JSON.stringify(body);
  return Object.entries(ids).filter(([, id]) => text.includes(id)).map(([field]) => field);
}

afterAll(async () => {
  await platform?.close();
});

/** Calls an RPC of any kind with one JSON request message. */
function call(m: ReflectedMethod, request: unknown, token?: string): Promise<RawAnswer> {
  return m.method.methodKind === "unary" ? postUnary(m.baseUrl, m.procedure, request, token) : postClientStream(m.baseUrl, m.procedure, [request], token);
}

/** Domain B gets a workspace and project with domain A's ids: references resolve, targets must not. */
async function createSharedReferences() {
  const workspace = await postUnary(platform.url("identity"), "cloudforet.identity.v1.WorkspaceService/Create", { workspace_id: idsA.workspace_id, name: "B" }, domainB.token);
  const project = await postUnary(platform.url("identity"), "cloudforet.identity.v1.ProjectService/Create", { project_id: idsA.project_id, name: "B", workspace_id: idsA.workspace_id }, domainB.token);
  if (workspace.code !== "ok" || project.code !== "ok") throw new Error(`domain B's workspace/project: ${workspace.message} ${project.message}`);
}

async function createUnsharedObjects() {
  const workspace_id = "ws-auth-a-only";
  const project_id = "project-auth-a-only";
  await postUnary(platform.url("identity"), "cloudforet.identity.v1.WorkspaceService/Create", { workspace_id, name: "A only" }, platform.admin.token);
  await postUnary(platform.url("identity"), "cloudforet.identity.v1.ProjectService/Create", { project_id, name: "A only", workspace_id }, platform.admin.token);
  return { workspace_id, project_id };
}

/**
 * A sequence, a parked instance, its task (claimed by A's worker), a cron, a trigger, a paused
 * recurrent request and a rate limit in domain A.
 */
async function createOrchestrationObjects(): Promise<Record<string, Record<string, string>>> {
  const url = platform.url("orchestration");
  const as = async (procedure: string, body: unknown) => {
    const answer = await postUnary(url, `cloudforet.orchestration.v1.${procedure}`, body, platform.admin.token);
    if (answer.code !== "ok") throw new Error(`${procedure}: ${answer.code} ${answer.message}`);
    return answer.body as Record<string, unknown>;
  };
  const sequence = (await as("SequenceService/Create", { namespace: "default", name: "auth-a-seq", blocks: [{ type: "step", id: "w", handler: "auth_a_handler" }] })).id as string;
  const instance = (await as("InstanceService/Create", { sequence_id: sequence, namespace: "default" })).id as string;
  const cron = (await as("CronService/Create", { namespace: "default", sequence_id: sequence, cron_expr: "0 0 * * *" })).id as string;
  const slug = (await as("TriggerService/Create", { slug: "auth-a-trigger", namespace: "default", sequence_id: sequence })).slug as string;
  const recurrent = (
    await as("RecurrentRequestService/Create", {
      name: "auth-a-recurrent",
      recurrence: { schedule_type: "INTERVAL", interval_seconds: 86_400 },
      target: { url: "http://127.0.0.1:9/never", method: "POST" },
      status: "PAUSED",
    })
  ).id as string;
  const rateLimitKey = (await as("RateLimitService/Set", { key: "auth-a-limit", max_count: 5, window: "1s" })).key as string;
  let task: string | undefined;
  for (let attempt = 0; attempt < 50 && !task; attempt++) {
    const polled = (await as("WorkerService/PollTasks", { handler_name: "auth_a_handler", worker_id: "worker-a", limit: 1, wait_ms: 200 })) as { tasks?: { id: string }[] };
    task = polled.tasks?.[0]?.id;
  }
  if (!task) throw new Error("domain A's worker got no task");
  return {
    "cloudforet.orchestration.v1.SequenceService": { id: sequence },
    "cloudforet.orchestration.v1.InstanceService": { id: instance, ids: instance },
    "cloudforet.orchestration.v1.CronService": { id: cron },
    "cloudforet.orchestration.v1.TriggerService": { slug },
    "cloudforet.orchestration.v1.RecurrentRequestService": { id: recurrent },
    "cloudforet.orchestration.v1.RateLimitService": { key: rateLimitKey },
    "cloudforet.orchestration.v1.WorkerService": { task_id: task, handler_name: "auth_a_handler" },
  };
}

/**
 * A request aimed at domain A's object: the RPC's first id field (its target) holds A's id,
 * other references left out (or, where required, ids B has too), other fields valid fillers.
 */
function requestAgainstA(m: ReflectedMethod): Record<string, unknown> | undefined {
  const request: Record<string, unknown> = { ...EXTRA[m.procedure] };
  const own = orchestrationIds[m.service.typeName] ?? {};
  let target: string | undefined;
  for (const field of [...m.method.input.fields].sort((a, b) => a.number - b.number)) {
    const single = field.name.endsWith("_ids") ? field.name.slice(0, -1) : field.name;
    const id = own[field.name] ?? targets[single];
    if (field.name in request) continue;
    if (id !== undefined && target === undefined) {
      request[field.name] = field.fieldKind === "list" ? [id] : id;
      target = single;
    } else if (FILLERS[field.name] !== undefined) {
      request[field.name] = FILLERS[field.name];
    }
  }
  return target || EXTRA[m.procedure] ? request : undefined;
}

describe("auth everywhere", () => {
  it("reflection finds the RPCs of every service", () => {
    expect(methods.length).toBeGreaterThan(70);
    for (const name of SERVICES) expect(methods.some((m) => m.baseUrl === platform.url(name))).toBe(true);
  });

  it("every RPC without a token (or with a forged one) is UNAUTHENTICATED, except Login, Refresh and GetJwks", async () => {
    const wrong: string[] = [];
    for (const m of methods) {
      const anonymous = await call(m, {});
      const forged = await call(m, {}, "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJl");
      if (PUBLIC.has(m.procedure)) {
        if (anonymous.code === "unauthenticated") wrong.push(`${m.procedure} is public but answered ${anonymous.code}`);
      } else {
        if (anonymous.code !== "unauthenticated") wrong.push(`${m.procedure} without a token answered ${anonymous.code}`);
        if (forged.code !== "unauthenticated") wrong.push(`${m.procedure} with a forged token answered ${forged.code}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(methods.filter((m) => PUBLIC.has(m.procedure))).toHaveLength(PUBLIC.size);
  });

  it("health and reflection answer without a token on every port", async () => {
    for (const name of SERVICES) {
      expect((await postUnary(platform.url(name), "grpc.health.v1.Health/Check", {})).body, name).toMatchObject({ status: "SERVING" });
    }
  });

  it("domain B's admin gets NOT_FOUND or PERMISSION_DENIED for every RPC aimed at domain A's objects", async () => {
    const wrong: string[] = [];
    const covered: string[] = [];
    for (const m of methods.filter((m) => !NOT_BY_ID.test(m.method.name) && !PUBLIC.has(m.procedure))) {
      const request = requestAgainstA(m);
      if (!request) {
        wrong.push(`${m.procedure}: no fixture object for any of its fields (${m.method.input.fields.map((f) => f.name).join(", ")})`);
        continue;
      }
      const answer = await call(m, request, domainB.token);
      covered.push(m.procedure);
      if (answer.code === "ok" && isCollection(m)) {
        const leaked = leakedIds(m, answer.body, targets);
        if (leaked.length > 0) wrong.push(`${m.procedure} answered domain A's ${leaked.join(", ")}`);
      } else if (answer.code !== "not_found" && answer.code !== "permission_denied" && answer.code !== "unimplemented") {
        wrong.push(`${m.procedure} ${JSON.stringify(request)} answered ${answer.code}: ${answer.message}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(covered.length).toBeGreaterThan(30);
    // Domain A's objects are all still there, unchanged.
    const get = methods.find((m) => m.procedure === "cloudforet.identity.v1.ProjectService/Get")!;
    expect((await call(get, { project_id: targets.project_id }, platform.admin.token)).body).toMatchObject({ name: "A only" });
  });

  it("no List, Stat, Analyze or Query of domain B returns any of domain A's rows", async () => {
    const wrong: string[] = [];
    const listed: string[] = [];
    for (const m of methods.filter((m) => isCollection(m) && m.method.methodKind === "unary")) {
      const request = requestAgainstA(m) ?? { ...EXTRA[m.procedure] };
      const answer = await call(m, request, domainB.token);
      const own = await call(m, request, platform.admin.token);
      if (answer.code !== "ok" && answer.code !== "not_found" && answer.code !== "permission_denied") {
        wrong.push(`${m.procedure} answered ${answer.code}: ${answer.message}`);
        continue;
      }
      listed.push(m.procedure);
      if (answer.code !== "ok") continue; // an error names the caller's own request, not rows
      const leaked = leakedIds(m, answer.body, targets);
      if (leaked.length > 0) wrong.push(`${m.procedure} showed domain B ${leaked.join(", ")}`);
      // The same call as A does find its rows, so the check above is not vacuous.
      const ownIds = { ...targets, ...Object.assign({}, ...Object.values(orchestrationIds)) };
      if (own.code === "ok" && leakedIds(m, own.body, ownIds).length === 0 && !/Domain|Analyze|Stat|Dlq|PollTasks/.test(m.procedure)) {
        wrong.push(`${m.procedure} does not show domain A its own rows either: ${JSON.stringify(own.body).slice(0, 200)}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(listed.length).toBeGreaterThan(15);
  });

  it.runIf(withOrchestration)("domain B cannot heartbeat or complete domain A's orchestration task", async () => {
    const complete = methods.find((m) => m.procedure === "cloudforet.orchestration.v1.WorkerService/CompleteTask")!;
    const answer = await call(complete, { task_id: orchestrationIds["cloudforet.orchestration.v1.WorkerService"].task_id, worker_id: "worker-a" }, domainB.token);
    expect(["not_found", "permission_denied"]).toContain(answer.code);
  });
});
