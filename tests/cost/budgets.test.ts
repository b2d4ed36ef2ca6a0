import { type Client } from "@connectrpc/connect";
import { costModule } from "@cloudforet/cost";
import { decodeError } from "@cloudforet/errors";
import { notificationModule } from "@cloudforet/notification";
import { Budget_Threshold_Severity, Budget_Threshold_Unit, Budget_TimeUnit, BudgetService } from "@cloudforet/proto/cloudforet/cost/v1/budget_pb";
import { CostService } from "@cloudforet/proto/cloudforet/cost/v1/cost_pb";
import { DataSourceService } from "@cloudforet/proto/cloudforet/cost/v1/data_source_pb";
import { Channel_ChannelType, ChannelService } from "@cloudforet/proto/cloudforet/notification/v1/channel_pb";
import { NotificationService } from "@cloudforet/proto/cloudforet/notification/v1/notification_pb";
import { startService, type RunningService } from "@cloudforet/runtime";
import { TEST_OUTBOUND_ALLOW, testNatsUrl } from "@cloudforet/testing";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { notificationTestEnv } from "../notification/support/env";
import { startHttpReceiver, type HttpReceiver } from "../notification/support/receivers";
import { bearer, startTestPlatform, type TestPlatform } from "../support/platform";
import { runCfctl, tempConfigDir } from "../cli/support";

/**
 * Budgets over real Postgres and real delivery: cost batches commit, their outbox events evaluate
 * the budgets, threshold notices travel to notification over NATS JetStream, and a local webhook
 * receives them. This file's consumers have their own names (NATS_CONSUMER_PREFIX), so other files'
 * platforms on the same NATS neither take its events nor hand it theirs.
 */
let platform: TestPlatform;
let hooks: HttpReceiver;
let budgets: Client<typeof BudgetService>;
let costs: Client<typeof CostService>;
let env: Record<string, string>;
let cost: RunningService;

const today = new Date();
const day = today.toISOString().slice(0, 10);
const month = day.slice(0, 7);
const failure = (promise: Promise<unknown>) => promise.then(() => expect.fail("expected an error"), (err) => decodeError(err));
/** The budget notices the webhook received (anything else a shared bus may bring is ignored). */
const budgetHooks = () => hooks.to("/budget").filter((r) => typeof (r.body as { tags?: { budget_id?: string } }).tags?.budget_id === "string");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Cost runs outside the platform helper so the test can stop it and start it again (a restart). */
async function startCost(): Promise<RunningService> {
  return startService(costModule, {
    ...env,
    DATABASE_URL: platform.databaseUrl,
    COST_ADDR: "127.0.0.1:0",
    IDENTITY_URL: platform.url("identity"),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    CLOUDFORET_OUTBOUND_ALLOW: TEST_OUTBOUND_ALLOW,
  });
}

function useCost(service: RunningService) {
  cost = service;
  const transport = createConnectTransport({ baseUrl: service.url, httpVersion: "2", interceptors: [bearer(platform.admin.token)] });
  budgets = createClient(BudgetService, transport);
  costs = createClient(CostService, transport);
}

beforeAll(async () => {
  hooks = await startHttpReceiver();
  env = notificationTestEnv({ NOTIFICATION_POLL_MS: "100", NATS_URL: testNatsUrl() });
  platform = await startTestPlatform({ modules: [notificationModule], env });
  useCost(await startCost());
  await createClient(DataSourceService, createConnectTransport({ baseUrl: cost.url, httpVersion: "2", interceptors: [bearer(platform.admin.token)] })).create({
    dataSourceId: "ds-budget-aws",
    name: "AWS",
    provider: "aws",
  });
  await platform.client(ChannelService).create({ name: "budget-hook", channelType: Channel_ChannelType.WEBHOOK, options: { url: `${hooks.url}/budget` } });
}, 120_000);

afterAll(async () => {
  await cost?.close();
  await platform?.close();
  await hooks?.close();
});

const batch = (items: { cost: number; team: string }[], key = "") =>
  costs.batchCreate({
    dataSourceId: "ds-budget-aws",
    idempotencyKey: key,
    costs: items.map((item, i) => ({ date: day, cost: item.cost, currency: "USD", resourceId: `vm-${i}`, tags: { team: item.team } })),
  });

describe("BudgetService: thresholds notify once per period", () => {
  let budgetId: string;

  it("creates a monthly budget with 80 % WARNING and 100 % CRITICAL thresholds", async () => {
    const created = await budgets.create({
      name: "Team A",
      dataSourceId: "ds-budget-aws",
      tagFilter: { team: "a" },
      timeUnit: Budget_TimeUnit.MONTHLY,
      limit: 1000,
      thresholds: [
        { value: 80, unit: Budget_Threshold_Unit.PERCENT, severity: Budget_Threshold_Severity.WARNING },
        { value: 100, unit: Budget_Threshold_Unit.PERCENT, severity: Budget_Threshold_Severity.CRITICAL },
      ],
    });
    budgetId = created.budgetId;
    expect(created).toMatchObject({ name: "Team A", currency: "USD", limit: 1000, timeUnit: Budget_TimeUnit.MONTHLY, domainId: "domain-default", tagFilter: { team: "a" } });
    expect(budgetId).toMatch(/^budget-/);
    expect((await budgets.get({ budgetId })).thresholds.map((t) => [t.value, t.unit, t.severity])).toEqual([
      [80, Budget_Threshold_Unit.PERCENT, Budget_Threshold_Severity.WARNING],
      [100, Budget_Threshold_Unit.PERCENT, Budget_Threshold_Severity.CRITICAL],
    ]);
  });

  it("crossing 80 % then exactly 100 % sends exactly two notices, and none after", async () => {
    await batch([{ cost: 500, team: "a" }, { cost: 900, team: "b" }]); // 50 %: team b does not count
    await batch([{ cost: 333.33, team: "a" }]); // 83.333 %
    await expect.poll(() => budgetHooks().length, { timeout: 20_000, interval: 100 }).toBe(1);
    const first = budgetHooks()[0].body as Record<string, unknown>;
    expect(JSON.stringify(first)).toContain("Budget WARNING: Team A reached 80% in " + month);

    await batch([{ cost: 166.67, team: "a" }]); // 1000.00 exactly: decimals, so 100 % is reached
    await expect.poll(() => budgetHooks().length, { timeout: 20_000, interval: 100 }).toBe(2);
    expect(JSON.stringify(budgetHooks()[1].body)).toContain("Budget CRITICAL: Team A reached 100% in " + month);

    // More costs in the same month, a retried batch, and a restarted cost service: nothing new.
    await batch([{ cost: 50, team: "a" }], "retry-1");
    await batch([{ cost: 50, team: "a" }], "retry-1");
    await cost.close();
    useCost(await startCost());
    await batch([{ cost: 100, team: "a" }]);
    await expect.poll(async () => (await budgets.stat({ budgetId })).results[0]?.usage, { timeout: 20_000, interval: 200 }).toBe(1150);
    await sleep(3000);
    expect(budgetHooks()).toHaveLength(2);
    const notices = await platform.client(NotificationService).list({});
    expect(notices.results.filter((n) => n.tags.budget_id === budgetId).map((n) => n.tags.threshold).sort()).toEqual(["PERCENT:100", "PERCENT:80"]);
  }, 90_000);

  it("Stat reports usage against limit and the forecast from the current run rate", async () => {
    const { results, totalCount } = await budgets.stat({ budgetId });
    expect(totalCount).toBe(1);
    const [row] = results;
    const daysInMonth = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth() + 1, 0)).getUTCDate();
    const elapsed = today.getUTCDate();
    expect(row).toMatchObject({ budgetId, name: "Team A", period: month, currency: "USD", usage: 1150, limit: 1000, usagePercent: 115, elapsedDays: elapsed, periodDays: daysInMonth });
    expect(row.notifiedThresholds).toEqual(["PERCENT:80", "PERCENT:100"]);
    expect(row.forecast).toBeCloseTo((1150 / elapsed) * daysInMonth, 5);
    expect(row.forecastPercent).toBeCloseTo(((1150 / elapsed) * daysInMonth) / 10, 1);

    // A past period: nothing spent, nothing forecast.
    const past = await budgets.stat({ budgetId, period: "2020-01" });
    expect(past.results[0]).toMatchObject({ period: "2020-01", usage: 0, limit: 1000, usagePercent: 0, forecast: 0, elapsedDays: 31, periodDays: 31, notifiedThresholds: [] });
  });

  it("a yearly budget uses its planned limit for the year and counts the year's costs", async () => {
    const year = month.slice(0, 4);
    const yearly = await budgets.create({
      name: "Whole domain, yearly",
      timeUnit: Budget_TimeUnit.YEARLY,
      limit: 1_000_000,
      plannedLimits: [{ period: year, limit: 4600 }],
    });
    const { results } = await budgets.stat({ budgetId: yearly.budgetId });
    // every USD row of the domain this year: 500 + 900 + 333.33 + 166.67 + 50 + 100
    expect(results[0]).toMatchObject({ period: year, usage: 2050, limit: 4600 });
    expect(results[0].usagePercent).toBeCloseTo(44.57, 2);
    const listed = await budgets.list({ query: { filter: [{ k: "time_unit", v: { kind: { case: "stringValue", value: "YEARLY" } } }] } });
    expect(listed.results.map((b) => [b.budgetId, b.limit, b.plannedLimits.map((p) => [p.period, p.limit])])).toEqual([[yearly.budgetId, 1_000_000, [[year, 4600]]]]);
    const all = await budgets.stat({ period: month });
    expect(all.totalCount).toBe(2);
    expect(all.results.map((r) => r.period)).toEqual([month, year]);
  });

  it("Update changes the limit; Delete removes the budget", async () => {
    const updated = await budgets.update({ budgetId, limit: 2000 });
    expect(updated.limit).toBe(2000);
    expect((await budgets.stat({ budgetId })).results[0].usagePercent).toBe(57.5);
    const doomed = await budgets.create({ name: "Doomed", limit: 1 });
    await budgets.delete({ budgetId: doomed.budgetId });
    expect(await failure(budgets.get({ budgetId: doomed.budgetId }))).toMatchObject({ code: "ERROR_NOT_FOUND", metadata: { budget_id: doomed.budgetId } });
  });
});

describe("cfctl: list budgets, stat budget <id>", () => {
  it("lists the budgets and prints one budget's usage, limit and forecast", async () => {
    const config = await tempConfigDir();
    try {
      const env = {
        CLOUDFORET_TOKEN: platform.admin.token,
        CLOUDFORET_DOMAIN_ID: "domain-default",
        CLOUDFORET_IDENTITY_URL: platform.url("identity"),
        CLOUDFORET_COST_URL: cost.url,
        CFCTL_CONFIG: config.path,
      };
      const listed = await runCfctl(["list", "budgets", "-o", "json"], env);
      expect(listed.stderr).toBe("");
      const budgetsJson = JSON.parse(listed.stdout) as { budget_id: string; name: string }[];
      const teamA = budgetsJson.find((b) => b.name === "Team A");
      expect(teamA?.budget_id).toMatch(/^budget-/);
      const stat = await runCfctl(["stat", "budget", teamA!.budget_id, "-o", "json"], env);
      expect(stat.stderr).toBe("");
      expect(JSON.parse(stat.stdout)).toEqual([
        expect.objectContaining({ budget_id: teamA!.budget_id, name: "Team A", period: month, usage: 1150, limit: 2000, usage_percent: 57.5, notified_thresholds: ["PERCENT:80", "PERCENT:100"] }),
      ]);
    } finally {
      await config.cleanup();
    }
  }, 60_000);
});

describe("BudgetService: validation names the field", () => {
  const invalid = async (promise: Promise<unknown>, parameter: string) => {
    const err = await failure(promise);
    expect(err.code).toBe("ERROR_INVALID_PARAMETER");
    expect(err.metadata.parameter).toBe(parameter);
  };

  it("refuses bad input with INVALID_ARGUMENT naming the field", async () => {
    await invalid(budgets.create({ name: "", limit: 1 }), "name");
    await invalid(budgets.create({ name: "x", limit: -1 }), "limit");
    await invalid(budgets.create({ name: "x", limit: 0.0000001 }), "limit");
    await invalid(budgets.create({ name: "x", limit: 1, currency: "DOLLARS" }), "currency");
    await invalid(budgets.create({ name: "x", limit: 1, plannedLimits: [{ period: "2024-13", limit: 5 }] }), "planned_limits[0].period");
    await invalid(budgets.create({ name: "x", limit: 1, timeUnit: Budget_TimeUnit.YEARLY, plannedLimits: [{ period: "2024-01", limit: 5 }] }), "planned_limits[0].period");
    await invalid(budgets.create({ name: "x", limit: 1, thresholds: [{ value: 0, unit: Budget_Threshold_Unit.PERCENT }] }), "thresholds[0].value");
    await invalid(budgets.create({ name: "x", limit: 1, thresholds: [{ value: 80 }, { value: 80 }] }), "thresholds[1]");
    await invalid(budgets.create({ name: "x", limit: 1, tagFilter: { "": "a" } }), "tag_filter");
    await invalid(budgets.stat({ period: "May" }), "period");
    await invalid(budgets.stat({ page: { limit: 5000 } }), "page.limit");
    await invalid(budgets.list({ query: { filter: [{ k: "nope", v: { kind: { case: "stringValue", value: "x" } } }] } }), "query.filter[0]");
    expect(await failure(budgets.create({ name: "x", limit: 1, dataSourceId: "ds-missing" }))).toMatchObject({ code: "ERROR_NOT_FOUND", metadata: { data_source_id: "ds-missing" } });
    expect(await failure(budgets.get({ budgetId: "" }))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "budget_id" } });
  });

  it("a workspace member may read but not write budgets", async () => {
    const member = await platform.createWorkspaceUser(platform.admin, "budget-member", "WORKSPACE_MEMBER", "ws-budget");
    const asMember = createClient(BudgetService, createConnectTransport({ baseUrl: cost.url, httpVersion: "2", interceptors: [bearer(member.token)] }));
    expect(await failure(asMember.create({ name: "mine", limit: 1, workspaceId: "ws-budget" }))).toMatchObject({ code: "ERROR_PERMISSION_DENIED" });
    const listed = await asMember.list({});
    expect(listed.results.every((b) => b.workspaceId === "" || b.workspaceId === "ws-budget")).toBe(true);
  });
});

describe("BudgetService: costs created one at a time", () => {
  it("a cost created alone (CostService.Create) is evaluated as it arrives", async () => {
    const single = await budgets.create({
      name: "Team C",
      dataSourceId: "ds-budget-aws",
      tagFilter: { team: "c" },
      timeUnit: Budget_TimeUnit.MONTHLY,
      limit: 100,
      thresholds: [{ value: 90, unit: Budget_Threshold_Unit.ACTUAL_COST, severity: Budget_Threshold_Severity.WARNING }],
    });
    await costs.create({ dataSourceId: "ds-budget-aws", date: day, cost: 95, currency: "USD", resourceId: "vm-c", tags: { team: "c" } });
    await expect.poll(() => budgetHooks().filter((r) => JSON.stringify(r.body).includes(single.budgetId)).length, { timeout: 20_000, interval: 100 }).toBe(1);
  }, 60_000);
});
