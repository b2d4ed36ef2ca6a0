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
/**
 * README "Logging in": the RPCs anyone may call (besides health and reflection). IssueToken
 * authenticates by the service identity's credential in its body.
 */
const PUBLIC = new Set([
  "cloudforet.identity.v1.AuthService/Login",
  "cloudforet.identity.v1.AuthService/Refresh",
  "cloudforet.identity.v1.AuthService/GetJwks",
  "cloudforet.identity.v1.ServiceIdentityService/IssueToken",
]);
/** RPCs that make new objects or read collections; the others act on one object named by id. */
const NOT_BY_ID = /^(Create\w*|Register|BatchCreate|Upsert|BatchUpsert|Set|Send|Push|PushBatch|Ingest|Login|Refresh|GetJwks|Grant|List\w*|Stat|Analyze|Query)$/;
const isCollection = (m: ReflectedMethod) =>
  /^(List\w*|Stat|Analyze|Query)$/.test(m.method.name) ||
  m.procedure === "cloudforet.monitoring.v1.MetricService/GetData" ||
  m.procedure === "cloudforet.orchestration.v1.WorkerService/PollTasks";
/**
 * RPCs that act on what the caller's own domain holds under a name: an Orch8 tenant is a name inside
 * the caller's domain, so B's bulk change of tenant "domain-default" changes B's tenant of that name
 * (tests/orchestration/tenant-isolation.test.ts checks that A's rows stay as they were).
 */
const ACTS_IN_OWN_DOMAIN = new Set(["cloudforet.orchestration.v1.InstanceService/BulkUpdateState"]);
/** RPCs that name no object: they act on the caller's own request-logging switch (tests/identity/request-logs.test.ts). */
const ACTS_ON_CALLER = new Set(["Start", "Stop", "GetStatus"].map((name) => `cloudforet.identity.v1.RequestLogService/${name}`));
/** A valid alert rule's fields (AlertRuleService Create and Update). */
const ALERT_RULE = { name: "cpu-high", metric_name: "cpu.utilization", aggregation: "AVG", window_seconds: 300, comparison: "GT", threshold: 90, severity: "WARNING", channels: ["ops"] };
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
  "cloudforet.monitoring.v1.AlertRuleService/Update": ALERT_RULE,
  "cloudforet.monitoring.v1.EscalationPolicyService/Update": { steps: [{ channels: ["stolen"] }] },
  "cloudforet.monitoring.v1.AlertService/Assign": { assignee: "user-b" },
  "cloudforet.inventory.v1.CollectorRuleService/ChangeOrder": { order: 1 },
  "cloudforet.monitoring.v1.AlertService/Comment": { text: "stolen" },
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
const targets: Record<string, string> = {
  ...idsA,
  domain_id: "domain-default",
  ...(await createUnsharedObjects()),
  ...(await createUnattendedObjects()),
  ...(await createRequestLog()),
  ...(await createPluginRegistryObjects()),
};
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
 * Domain A's objects of the unattended platform: a service identity, a collector rule, the change
 * history of its resource, a budget, an alert rule, an alert (from the webhook), a webhook key, an
 * escalation policy, a maintenance window, and one fire of the fixture collector's schedule.
 */
async function createUnattendedObjects(): Promise<Record<string, string>> {
  const as = async (service: string, procedure: string, body: unknown) => {
    const answer = await postUnary(platform.url(service), procedure, body, platform.admin.token);
    if (answer.code !== "ok") throw new Error(`${procedure}: ${answer.code} ${answer.message}`);
    return answer.body as Record<string, any>;
  };
  const identity = await as("identity", "cloudforet.identity.v1.ServiceIdentityService/Grant", { service: "inventory", workspace_id: idsA.workspace_id });
  const rule = await as("inventory", "cloudforet.inventory.v1.CollectorRuleService/Create", {
    name: "tag-a",
    collector_id: idsA.collector_id,
    conditions: [{ k: "provider", v: "nutanix", o: "eq" }],
    actions: { add_tags: { team: "a" } },
  });
  const changes = await as("cloud-service", "cloudforet.cloud_service.v1.ChangeHistoryService/List", { cloud_service_id: idsA.cloud_service_id });
  const budget = await as("cost", "cloudforet.cost.v1.BudgetService/Create", { name: "A", time_unit: "MONTHLY", limit: 100, workspace_id: idsA.workspace_id });
  const alertRule = await as("monitoring", "cloudforet.monitoring.v1.AlertRuleService/Create", { ...ALERT_RULE, workspace_id: idsA.workspace_id });
  const policy = await as("monitoring", "cloudforet.monitoring.v1.EscalationPolicyService/Create", { name: "on-call", steps: [{ channels: ["ops"] }], workspace_id: idsA.workspace_id });
  const window = await as("monitoring", "cloudforet.monitoring.v1.MaintenanceWindowService/Create", {
    name: "deploy",
    matchers: [{ name: "service", value: "checkout" }],
    ends_at: new Date(Date.now() + 3_600_000).toISOString(),
    workspace_id: idsA.workspace_id,
  });
  const key = await as("monitoring", "cloudforet.monitoring.v1.AlertService/CreateWebhookKey", { name: "alertmanager", channels: ["ops"], workspace_id: idsA.workspace_id });
  const hook = await fetch(`${platform.url("monitoring")}/api/v1/alerts/webhook`, {
    method: "POST",
    headers: { authorization: `Bearer ${key.webhook_key.key}`, "content-type": "application/json" },
    body: JSON.stringify({ version: "4", status: "firing", receiver: "cloudforet", groupKey: "{}", alerts: [{ status: "firing", labels: { alertname: "DiskFull" }, annotations: {}, startsAt: new Date().toISOString(), fingerprint: "auth-a" }] }),
  });
  const alertId = ((await hook.json()) as { alert_ids: string[] }).alert_ids[0]!;
  // One fire of the fixture collector's schedule (SKIPPED: its job is still CREATED), then off again.
  await as("inventory", "cloudforet.inventory.v1.CollectorService/Update", { collector_id: idsA.collector_id, schedule: { enabled: true, interval_seconds: 1 } });
  for (let i = 0; i < 100; i++) {
    if ((await as("inventory", "cloudforet.inventory.v1.CollectorService/ListScheduleFires", {})).results?.length) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await as("inventory", "cloudforet.inventory.v1.CollectorService/DisableSchedule", { collector_id: idsA.collector_id });
  return {
    service_identity_id: identity.service_identity.service_identity_id,
    collector_rule_id: rule.rule.collector_rule_id,
    change_id: changes.results[0].change_id,
    budget_id: budget.budget_id,
    alert_rule_id: alertRule.alert_rule.alert_rule_id,
    alert_id: alertId,
    webhook_key_id: key.webhook_key.webhook_key_id,
    escalation_policy_id: policy.escalation_policy.escalation_policy_id,
    maintenance_window_id: window.maintenance_window.maintenance_window_id,
  };
}

/** One request log of domain A's admin: logging on for one call on A's workspace, then off again. */
async function createRequestLog(): Promise<{ request_log_id: string }> {
  const identity = platform.url("identity");
  const as = (procedure: string, body: unknown) => postUnary(identity, `cloudforet.identity.v1.${procedure}`, body, platform.admin.token);
  await as("RequestLogService/Start", { truncate_long_message: true });
  try {
    for (let attempt = 0; attempt < 100; attempt++) {
      await as("WorkspaceService/Get", { workspace_id: idsA.workspace_id });
      const listed = (await as("RequestLogService/List", { path: "/cloudforet.identity.v1.WorkspaceService/Get" })).body as { results?: { request_log_id: string }[] };
      const found = listed.results?.[0]?.request_log_id;
      if (found) return { request_log_id: found };
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error("domain A's request log was not recorded");
  } finally {
    await as("RequestLogService/Stop", {});
  }
}

/** Domain A's plugin with a version, an alias naming it and an enrollment of it (FAILED: nothing answers its endpoint). */
async function createPluginRegistryObjects(): Promise<{ plugin_id: string; enrollment_id: string }> {
  const as = async (procedure: string, body: unknown) => {
    const answer = await postUnary(platform.url("inventory"), `cloudforet.inventory.v1.${procedure}`, body, platform.admin.token);
    if (answer.code !== "ok") throw new Error(`${procedure}: ${answer.code} ${answer.message}`);
    return answer.body as Record<string, any>;
  };
  const plugin_id = "plugin-auth-a-registry";
  await as("PluginService/Register", { plugin_id, name: "A's collector" });
  await as("PluginService/AddVersion", { plugin_id, version: "1.0.0", endpoints: [{ url: "http://127.0.0.1:9", weight: 1 }] });
  await as("PluginAliasService/Create", { plugin_id, name: "stable", version: "1.0.0" });
  const enrolled = await as("EnrollmentService/Create", { plugin_id, version: "stable", workspace_id: idsA.workspace_id });
  return { plugin_id, enrollment_id: enrolled.enrollment.enrollment_id };
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

  it("every RPC without a token (or with a forged one) is UNAUTHENTICATED, except Login, Refresh, GetJwks and IssueToken", async () => {
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
    for (const m of methods.filter((m) => !NOT_BY_ID.test(m.method.name) && !PUBLIC.has(m.procedure) && !ACTS_ON_CALLER.has(m.procedure))) {
      const request = requestAgainstA(m);
      if (!request) {
        wrong.push(`${m.procedure}: no fixture object for any of its fields (${m.method.input.fields.map((f) => f.name).join(", ")})`);
        continue;
      }
      const answer = await call(m, request, domainB.token);
      covered.push(m.procedure);
      if (answer.code === "ok" && (isCollection(m) || ACTS_IN_OWN_DOMAIN.has(m.procedure))) {
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
