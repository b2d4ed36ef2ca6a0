import type { DescService, MessageInitShape } from "@bufbuild/protobuf";
import { timestampDate, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { decodeError } from "@cloudforet/errors";
import { monitoringModule } from "@cloudforet/monitoring";
import { notificationModule } from "@cloudforet/notification";
import { Alert_State, AlertService, type Alert } from "@cloudforet/proto/cloudforet/monitoring/v1/alert_pb";
import { AlertRule_Aggregation, AlertRule_Comparison, AlertRuleSeries_State, AlertRuleService, type AlertRuleServiceCreateRequestSchema } from "@cloudforet/proto/cloudforet/monitoring/v1/alert_rule_pb";
import { EscalationPolicyService } from "@cloudforet/proto/cloudforet/monitoring/v1/escalation_policy_pb";
import { MaintenanceWindowService } from "@cloudforet/proto/cloudforet/monitoring/v1/maintenance_window_pb";
import { MetricService } from "@cloudforet/proto/cloudforet/monitoring/v1/metric_pb";
import { Channel_ChannelType, ChannelService } from "@cloudforet/proto/cloudforet/notification/v1/channel_pb";
import { startService, type RunningService } from "@cloudforet/runtime";
import { TEST_OUTBOUND_ALLOW, testNatsUrl, uniqueSuffix } from "@cloudforet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, startTestPlatform, type TestPlatform } from "../support/platform";
import { runCfctl } from "../cli/support";
import { notificationTestEnv } from "../notification/support/env";
import { startHttpReceiver, type HttpReceiver, type ReceivedRequest } from "../notification/support/receivers";

/*
 * Alerting end to end: identity and notification from the test platform (real Postgres, real NATS),
 * monitoring replicas started here on the same database so they can be stopped, restarted and
 * doubled; the channels are webhooks into a local HTTP receiver, reached through notification's
 * durable delivery.
 */

const sfx = uniqueSuffix();
let platform: TestPlatform;
let env: Record<string, string>;
let hooks: HttpReceiver;
const replicas: RunningService[] = [];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const failure = (promise: Promise<unknown>) => promise.then(() => expect.fail("expected an error"), (err) => decodeError(err));

async function startMonitoring(): Promise<RunningService> {
  const replica = await startService(monitoringModule, {
    ...env,
    DATABASE_URL: platform.databaseUrl,
    MONITORING_ADDR: "127.0.0.1:0",
    IDENTITY_URL: platform.url("identity"),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    CLOUDFORET_OUTBOUND_ALLOW: TEST_OUTBOUND_ALLOW,
  });
  replicas.push(replica);
  return replica;
}

const clientOf = <S extends DescService>(service: S, replica: RunningService) =>
  createClient(service, createConnectTransport({ baseUrl: replica.url, httpVersion: "2", interceptors: [bearer(platform.admin.token)] }));

/** Posts that delivered a notice of this alert (of this kind). */
const noticesOf = (alertId: string, kind?: string): ReceivedRequest[] =>
  hooks.requests.filter((r) => {
    const tags = (r.body as { tags?: Record<string, string> }).tags ?? {};
    return tags.alert_id === alertId && (!kind || tags.alert_notice === kind);
  });

/** Posts a payload to a replica's alert webhook. */
const post = (monitoring: RunningService, body: unknown, authorization?: string) =>
  fetch(`${monitoring.url}/api/v1/alerts/webhook`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(authorization ? { authorization } : {}) },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

/** Pushes `value()` for a resource every 250 ms until stopped, so a short window always has samples. */
function feed(metrics: Client<typeof MetricService>, resourceId: string, value: () => number) {
  let running = true;
  const loop = (async () => {
    while (running) {
      await metrics.push({ resourceId, metricName: "cpu.utilization", value: value(), unit: "percent", timestamp: timestampFromMs(Date.now()) }).catch(() => {});
      await sleep(250);
    }
  })();
  return async () => {
    running = false;
    await loop;
  };
}

type RuleInit = MessageInitShape<typeof AlertRuleServiceCreateRequestSchema>;

function ruleRequest(overrides: RuleInit): RuleInit {
  return {
    name: `cpu-high-${sfx}`,
    metricName: "cpu.utilization",
    aggregation: AlertRule_Aggregation.AVG,
    windowSeconds: 2,
    comparison: AlertRule_Comparison.GT,
    threshold: 80,
    forSeconds: 0,
    intervalSeconds: 1,
    channels: [`hook-${sfx}`],
    ...overrides,
  };
}

async function alertOfRule(alerts: Client<typeof AlertService>, alertRuleId: string, state: Alert_State, timeout = 20_000): Promise<Alert> {
  let found: Alert | undefined;
  await expect
    .poll(async () => {
      const { results } = await alerts.list({ query: { filter: [{ k: "alert_rule_id", v: { kind: { case: "stringValue", value: alertRuleId } }, o: "eq" }] } });
      found = results.find((a) => a.state === state);
      return found !== undefined;
    }, { timeout, interval: 100 })
    .toBe(true);
  return found!;
}

beforeAll(async () => {
  hooks = await startHttpReceiver();
  env = notificationTestEnv({ NATS_URL: testNatsUrl(), MONITORING_ALERTS_MAX_SLEEP_MS: "5000", NOTIFICATION_POLL_MS: "100" });
  platform = await startTestPlatform({ modules: [notificationModule], env });
  const channels = platform.client(ChannelService);
  // Names unique to this run: the durable NATS consumer is shared, and an older run's notice must not match.
  for (const name of ["hook", "esc1", "esc2", "am", "silence"]) {
    await channels.create({ name: `${name}-${sfx}`, channelType: Channel_ChannelType.WEBHOOK, options: { url: `${hooks.url}/${name}` } });
  }
}, 60_000);

afterAll(async () => {
  for (const replica of replicas) await replica.close();
  await platform?.close();
  await hooks?.close();
});

describe("alert rules", () => {
  it("go PENDING, fire after `for`, notify once, resolve and notify the resolution once", async () => {
    const monitoring = replicas[0] ?? (await startMonitoring());
    const rules = clientOf(AlertRuleService, monitoring);
    const alerts = clientOf(AlertService, monitoring);
    let value = 95;
    const stop = feed(clientOf(MetricService, monitoring), `vm-fire-${sfx}`, () => value);
    try {
      const { alertRule } = await rules.create(ruleRequest({ resourceIds: [`vm-fire-${sfx}`], forSeconds: 2 }));
      const ruleId = alertRule!.alertRuleId;
      let pendingSince = 0;
      await expect
        .poll(async () => {
          const [series] = (await rules.listSeries({ alertRuleId: ruleId })).results;
          if (series?.state === AlertRuleSeries_State.PENDING) pendingSince = timestampDate(series.pendingSince!).getTime();
          return series?.state;
        }, { timeout: 10_000, interval: 100 })
        .toBe(AlertRuleSeries_State.PENDING);
      const firing = await alertOfRule(alerts, ruleId, Alert_State.FIRING);
      expect(firing.labels).toMatchObject({ resource_id: `vm-fire-${sfx}`, alertname: `cpu-high-${sfx}` });
      expect(firing.resourceId).toBe(`vm-fire-${sfx}`);
      expect(firing.value).toBeGreaterThan(80);
      // It fired no sooner than `for` after it went pending.
      expect(timestampDate(firing.startsAt!).getTime() - pendingSince).toBeGreaterThanOrEqual(1900);
      await expect.poll(() => noticesOf(firing.alertId, "FIRING").length, { timeout: 15_000, interval: 50 }).toBe(1);
      expect(noticesOf(firing.alertId, "FIRING")[0].path).toBe("/hook");
      await sleep(2500); // several evaluations later, still one notice
      expect(noticesOf(firing.alertId, "FIRING")).toHaveLength(1);

      value = 10;
      const resolved = await alertOfRule(alerts, ruleId, Alert_State.RESOLVED);
      expect(resolved.alertId).toBe(firing.alertId);
      await expect.poll(() => noticesOf(firing.alertId, "RESOLVED").length, { timeout: 15_000, interval: 50 }).toBe(1);
      await sleep(2000);
      expect(noticesOf(firing.alertId)).toHaveLength(2);
      await rules.delete({ alertRuleId: ruleId });
    } finally {
      await stop();
    }
  }, 60_000);

  it("keep a PENDING series' timer across a restart", async () => {
    let monitoring = replicas[0] ?? (await startMonitoring());
    let value = 95;
    const metricsOf = () => clientOf(MetricService, monitoring);
    let stopFeed = feed(metricsOf(), `vm-restart-${sfx}`, () => value);
    const { alertRule } = await clientOf(AlertRuleService, monitoring).create(ruleRequest({ name: `restart-${sfx}`, resourceIds: [`vm-restart-${sfx}`], windowSeconds: 5, forSeconds: 6 }));
    const ruleId = alertRule!.alertRuleId;
    let pendingSince = 0;
    await expect
      .poll(async () => {
        const [series] = (await clientOf(AlertRuleService, monitoring).listSeries({ alertRuleId: ruleId })).results;
        if (series?.pendingSince) pendingSince = timestampDate(series.pendingSince).getTime();
        return series?.state;
      }, { timeout: 10_000, interval: 100 })
      .toBe(AlertRuleSeries_State.PENDING);
    await stopFeed();
    await monitoring.close();
    replicas.splice(replicas.indexOf(monitoring), 1);
    await sleep(3000); // down for half of `for`
    monitoring = await startMonitoring();
    stopFeed = feed(metricsOf(), `vm-restart-${sfx}`, () => value);
    try {
      const firing = await alertOfRule(clientOf(AlertService, monitoring), ruleId, Alert_State.FIRING);
      const [series] = (await clientOf(AlertRuleService, monitoring).listSeries({ alertRuleId: ruleId })).results;
      expect(timestampDate(series.pendingSince!).getTime()).toBe(pendingSince);
      const firedAfter = timestampDate(firing.startsAt!).getTime() - pendingSince;
      expect(firedAfter).toBeGreaterThanOrEqual(5900);
      // A timer restarted at the restart would have fired at least 6 s after it (≥ 9 s after pending).
      expect(firedAfter).toBeLessThan(9000);
      await clientOf(AlertRuleService, monitoring).delete({ alertRuleId: ruleId });
    } finally {
      value = 0;
      await stopFeed();
    }
  }, 60_000);

  it("notify once with two replicas evaluating", async () => {
    const first = replicas[0] ?? (await startMonitoring());
    const second = await startMonitoring();
    let value = 95;
    const stop = feed(clientOf(MetricService, first), `vm-pair-${sfx}`, () => value);
    try {
      const { alertRule } = await clientOf(AlertRuleService, second).create(ruleRequest({ name: `pair-${sfx}`, resourceIds: [`vm-pair-${sfx}`] }));
      const ruleId = alertRule!.alertRuleId;
      const firing = await alertOfRule(clientOf(AlertService, first), ruleId, Alert_State.FIRING);
      await expect.poll(() => noticesOf(firing.alertId, "FIRING").length, { timeout: 15_000, interval: 50 }).toBe(1);
      await sleep(3000);
      expect(noticesOf(firing.alertId, "FIRING")).toHaveLength(1);
      value = 10;
      await alertOfRule(clientOf(AlertService, second), ruleId, Alert_State.RESOLVED);
      await expect.poll(() => noticesOf(firing.alertId, "RESOLVED").length, { timeout: 15_000, interval: 50 }).toBe(1);
      await sleep(2000);
      expect(noticesOf(firing.alertId)).toHaveLength(2);
      const open = await clientOf(AlertService, first).list({ query: { filter: [{ k: "alert_rule_id", v: { kind: { case: "stringValue", value: ruleId } } }] } });
      expect(open.results).toHaveLength(1);
    } finally {
      await stop();
      await second.close();
      replicas.splice(replicas.indexOf(second), 1);
    }
  }, 60_000);

  it("refuse bad input with INVALID_ARGUMENT naming the field", async () => {
    const rules = clientOf(AlertRuleService, replicas[0] ?? (await startMonitoring()));
    const cases: [RuleInit, string][] = [
      [{ name: "" }, "name"],
      [{ metricName: "" }, "metric_name"],
      [{ metricName: "9bad name" }, "metric_name"],
      [{ aggregation: AlertRule_Aggregation.NONE }, "aggregation"],
      [{ comparison: AlertRule_Comparison.UNSET }, "comparison"],
      [{ threshold: Number.NaN }, "threshold"],
      [{ windowSeconds: -1 }, "window_seconds"],
      [{ forSeconds: 100_000 }, "for_seconds"],
      [{ groupBy: ["resource_id"] }, "group_by[0]"],
      [{ escalationPolicyId: "escalation-policy-x" }, "escalation_policy_id"],
    ];
    for (const [overrides, parameter] of cases) {
      const err = await failure(rules.create(ruleRequest(overrides)));
      expect({ parameter, code: err.grpcCode, got: err.metadata.parameter }).toEqual({ parameter, code: Code.InvalidArgument, got: parameter });
    }
    const missing = await failure(rules.create(ruleRequest({ channels: [], escalationPolicyId: "escalation-policy-absent" })));
    expect(missing.grpcCode).toBe(Code.NotFound);
    const badQuery = await failure(clientOf(AlertService, replicas[0]).list({ query: { filter: [{ k: "state", v: { kind: { case: "stringValue", value: "FIRING" } }, o: "nope" }] } }));
    expect(badQuery.grpcCode).toBe(Code.InvalidArgument);
    expect(badQuery.metadata.parameter).toBe("query.filter[0]");
  }, 30_000);
});

describe("POST /api/v1/alerts/webhook", () => {
  const alertmanager = (status: "firing" | "resolved", fingerprint: string) => ({
    version: "4",
    groupKey: '{}:{alertname="DiskFull"}',
    status,
    receiver: "cloudforet",
    groupLabels: { alertname: "DiskFull" },
    commonLabels: {},
    commonAnnotations: {},
    externalURL: "http://alertmanager:9093",
    alerts: [
      {
        status,
        labels: { alertname: "DiskFull", severity: "critical", resource_id: `vm-am-${sfx}`, instance: "node-1:9100" },
        annotations: { summary: "Disk almost full", description: "/ is 97% full" },
        startsAt: "2026-01-15T10:00:00Z",
        endsAt: status === "resolved" ? "2026-01-15T10:30:00Z" : "0001-01-01T00:00:00Z",
        generatorURL: "http://prometheus:9090/graph",
        fingerprint,
      },
    ],
  });

  it("raises one alert for an Alertmanager payload and its repeat, and resolves it", async () => {
    const monitoring = replicas[0] ?? (await startMonitoring());
    const alerts = clientOf(AlertService, monitoring);
    const { webhookKey } = await alerts.createWebhookKey({ name: `am-${sfx}`, channels: [`am-${sfx}`] });
    expect(webhookKey!.key).toMatch(/^cfw_/);
    const auth = `Bearer ${webhookKey!.key}`;
    const fingerprint = `fp-${sfx}`;
    const first = await post(monitoring, alertmanager("firing", fingerprint), auth);
    expect(first.status).toBe(200);
    const firstBody = (await first.json()) as { created: number; updated: number; alert_ids: string[] };
    expect(firstBody).toMatchObject({ created: 1, updated: 0, resolved: 0 });
    const again = (await (await post(monitoring, alertmanager("firing", fingerprint), auth)).json()) as { created: number; updated: number; alert_ids: string[] };
    expect(again).toMatchObject({ created: 0, updated: 1, alert_ids: firstBody.alert_ids });
    const listed = await alerts.list({ query: { filter: [{ k: "fingerprint", v: { kind: { case: "stringValue", value: fingerprint } } }] } });
    expect(listed.totalCount).toBe(1);
    const [alert] = listed.results;
    expect(alert).toMatchObject({ title: "DiskFull", state: Alert_State.FIRING, resourceId: `vm-am-${sfx}`, description: "/ is 97% full" });
    await expect.poll(() => noticesOf(alert.alertId, "FIRING").length, { timeout: 15_000, interval: 50 }).toBe(1);
    await sleep(1500);
    expect(noticesOf(alert.alertId, "FIRING")).toHaveLength(1);
    expect(noticesOf(alert.alertId)[0].path).toBe("/am");

    const resolved = (await (await post(monitoring, alertmanager("resolved", fingerprint), auth)).json()) as { resolved: number };
    expect(resolved.resolved).toBe(1);
    expect((await alerts.get({ alertId: alert.alertId })).alert?.state).toBe(Alert_State.RESOLVED);
    await expect.poll(() => noticesOf(alert.alertId, "RESOLVED").length, { timeout: 15_000, interval: 50 }).toBe(1);
  }, 60_000);

  it("refuses a missing or unknown key (401) and bad payloads (400 naming the field)", async () => {
    const monitoring = replicas[0] ?? (await startMonitoring());
    expect((await post(monitoring, alertmanager("firing", "x"))).status).toBe(401);
    expect((await post(monitoring, alertmanager("firing", "x"), "Bearer cfw_not-a-key")).status).toBe(401);
    const jwt = `Bearer ${platform.admin.token}`;
    const notJson = await post(monitoring, "{", jwt);
    expect(notJson.status).toBe(400);
    expect(JSON.stringify(await notJson.json())).toContain("ERROR_INVALID_PARAMETER");
    const badStatus = await post(monitoring, { ...alertmanager("firing", "y"), alerts: [{ status: "exploded", labels: { alertname: "A" } }] }, jwt);
    expect(badStatus.status).toBe(400);
    expect(JSON.stringify(await badStatus.json())).toContain("alerts[0].status");
    // A platform token works too; a generic alert (no Alertmanager envelope) is a WEBHOOK alert.
    const generic = await post(monitoring, { title: `Backup failed ${sfx}`, severity: "error", labels: { job: "backup" } }, jwt);
    expect(generic.status).toBe(200);
    expect(await generic.json()).toMatchObject({ created: 1 });
  }, 30_000);
});

describe("maintenance windows", () => {
  it("hold an alert's notice back while active, and let it through once expired", async () => {
    const monitoring = replicas[0] ?? (await startMonitoring());
    const alerts = clientOf(AlertService, monitoring);
    const windowMs = 3000;
    const endsAt = Date.now() + windowMs;
    const { maintenanceWindow } = await clientOf(MaintenanceWindowService, monitoring).create({
      name: `deploy-${sfx}`,
      matchers: [{ name: "service", value: `checkout-${sfx}` }],
      endsAt: timestampFromMs(endsAt),
    });
    expect(maintenanceWindow?.state).toBe(1); // ACTIVE
    const { webhookKey } = await alerts.createWebhookKey({ name: `silence-${sfx}`, channels: [`silence-${sfx}`] });
    const response = await post(monitoring, { title: `Checkout errors ${sfx}`, labels: { service: `checkout-${sfx}` } }, `Bearer ${webhookKey!.key}`);
    const { alert_ids: [alertId] } = (await response.json()) as { alert_ids: string[] };
    await expect.poll(async () => (await alerts.get({ alertId })).alert?.silenced, { timeout: 5000, interval: 50 }).toBe(true);
    await sleep(Math.max(0, endsAt - Date.now() - 300));
    expect(noticesOf(alertId)).toHaveLength(0);
    await expect.poll(() => noticesOf(alertId, "FIRING").length, { timeout: 15_000, interval: 50 }).toBe(1);
    expect(noticesOf(alertId)[0].at).toBeGreaterThanOrEqual(endsAt);
    expect((await alerts.get({ alertId })).alert?.silenced).toBe(false);
    expect((await clientOf(MaintenanceWindowService, monitoring).get({ maintenanceWindowId: maintenanceWindow!.maintenanceWindowId })).maintenanceWindow?.state).toBe(2); // EXPIRED
  }, 30_000);

  it("refuse bad windows", async () => {
    const windows = clientOf(MaintenanceWindowService, replicas[0] ?? (await startMonitoring()));
    const now = Date.now();
    const cases: [Parameters<typeof windows.create>[0], string][] = [
      [{ name: "w", matchers: [], endsAt: timestampFromMs(now + 1000) }, "matchers"],
      [{ name: "w", matchers: [{ name: "", value: "x" }], endsAt: timestampFromMs(now + 1000) }, "matchers[0].name"],
      [{ name: "w", matchers: [{ name: "a", value: "(", operator: 2 }], endsAt: timestampFromMs(now + 1000) }, "matchers[0].value"],
      [{ name: "w", matchers: [{ name: "a", value: "x" }], startsAt: timestampFromMs(now), endsAt: timestampFromMs(now - 1) }, "ends_at"],
      [{ name: "w", matchers: [{ name: "a", value: "x" }] }, "ends_at"],
    ];
    for (const [request, parameter] of cases) {
      const err = await failure(windows.create(request));
      expect({ parameter, code: err.grpcCode, got: err.metadata.parameter }).toEqual({ parameter, code: Code.InvalidArgument, got: parameter });
    }
  });
});

describe("escalation policies", () => {
  it("notify their steps in order until the alert is acknowledged", async () => {
    const monitoring = replicas[0] ?? (await startMonitoring());
    const alerts = clientOf(AlertService, monitoring);
    const { escalationPolicy } = await clientOf(EscalationPolicyService, monitoring).create({
      name: `on-call-${sfx}`,
      steps: [{ channels: [`esc1-${sfx}`] }, { channels: [`esc2-${sfx}`], waitSeconds: 1 }],
      repeatCount: 3,
    });
    const { webhookKey } = await alerts.createWebhookKey({ name: `esc-${sfx}`, escalationPolicyId: escalationPolicy!.escalationPolicyId });
    const response = await post(monitoring, { title: `Database down ${sfx}`, severity: "critical", labels: { db: `main-${sfx}` } }, `Bearer ${webhookKey!.key}`);
    const { alert_ids: [alertId] } = (await response.json()) as { alert_ids: string[] };
    await expect.poll(() => noticesOf(alertId).length, { timeout: 15_000, interval: 50 }).toBeGreaterThanOrEqual(2);
    const [first, second] = noticesOf(alertId);
    expect([first.path, second.path]).toEqual(["/esc1", "/esc2"]);
    expect((second.body as { tags: Record<string, string> }).tags.escalation_step).toBe("2");
    expect(second.at - first.at).toBeGreaterThanOrEqual(800);
    const { alert } = await alerts.acknowledge({ alertId });
    expect(alert?.state).toBe(Alert_State.ACKNOWLEDGED);
    const afterAck = noticesOf(alertId).length;
    await sleep(3000); // three more steps would have come due
    expect(noticesOf(alertId)).toHaveLength(afterAck);
    expect(afterAck).toBeLessThanOrEqual(3);
    // A second acknowledgement is harmless; a resolved alert cannot be acknowledged.
    await alerts.resolve({ alertId, note: "failed over" });
    const err = await failure(alerts.acknowledge({ alertId }));
    expect(err.grpcCode).toBe(Code.FailedPrecondition);
    expect((await alerts.get({ alertId })).alert?.comments.map((c) => c.text)).toEqual(["failed over"]);
  }, 30_000);
});

describe("cfctl", () => {
  it("lists firing alerts and acknowledges one (cfctl list alerts --state firing, cfctl ack)", async () => {
    const monitoring = replicas[0] ?? (await startMonitoring());
    const jwt = `Bearer ${platform.admin.token}`;
    const { alert_ids: [alertId] } = (await (await post(monitoring, { title: `CLI alert ${sfx}`, labels: { cli: sfx } }, jwt)).json()) as { alert_ids: string[] };
    const env = { CLOUDFORET_TOKEN: platform.admin.token, CLOUDFORET_IDENTITY_URL: platform.url("identity"), CLOUDFORET_MONITORING_URL: monitoring.url };
    const listed = await runCfctl(["list", "alerts", "--state", "firing", "--filter", `labels.cli=${sfx}`, "-o", "name"], env);
    expect({ code: listed.code, stdout: listed.stdout, stderr: listed.stderr }).toEqual({ code: 0, stdout: `alert/${alertId}\n`, stderr: "" });
    const acked = await runCfctl(["ack", alertId], env);
    expect({ code: acked.code, stdout: acked.stdout }).toEqual({ code: 0, stdout: `${alertId} ACKNOWLEDGED by admin\n` });
    const none = await runCfctl(["list", "alerts", "--state", "firing", "--filter", `labels.cli=${sfx}`, "-o", "name"], env);
    expect(none.stdout).toBe("");
    const missing = await runCfctl(["ack", "alert-missing"], env);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain("ERROR_NOT_FOUND");
  }, 60_000);
});

describe("tenant isolation", () => {
  it("keeps one domain's alerts from another", async () => {
    const monitoring = replicas[0] ?? (await startMonitoring());
    const { alert_ids: [alertId] } = (await (await post(monitoring, { title: `Private ${sfx}`, labels: { tenant: sfx } }, `Bearer ${platform.admin.token}`)).json()) as { alert_ids: string[] };
    const other = await platform.createDomainAdmin(`domain-alerts-${sfx}`.slice(0, 40));
    const theirs = createClient(AlertService, createConnectTransport({ baseUrl: monitoring.url, httpVersion: "2", interceptors: [bearer(other.token)] }));
    const listed = await theirs.list({ query: { filter: [{ k: "labels.tenant", v: { kind: { case: "stringValue", value: sfx } } }] } });
    expect(listed.totalCount).toBe(0);
    expect((await failure(theirs.get({ alertId }))).grpcCode).toBe(Code.NotFound);
    expect((await failure(theirs.acknowledge({ alertId }))).grpcCode).toBe(Code.NotFound);
    expect((await clientOf(AlertService, monitoring).get({ alertId })).alert?.state).toBe(Alert_State.FIRING);
  }, 30_000);
});
