import type { Client } from "@connectrpc/connect";
import { costModule } from "@cloudforet/cost";
import { decodeError } from "@cloudforet/errors";
import { CostService, CostServiceAnalyzeRequest_Granularity as Granularity } from "@cloudforet/proto/cloudforet/cost/v1/cost_pb";
import { DataSourceService } from "@cloudforet/proto/cloudforet/cost/v1/data_source_pb";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPlatform, type TestPlatform } from "../support/platform";

let platform: TestPlatform;
let costs: Client<typeof CostService>;
let dataSources: Client<typeof DataSourceService>;

beforeAll(async () => {
  platform = await startTestPlatform({ modules: [costModule] });
  costs = platform.client(CostService);
  dataSources = platform.client(DataSourceService);
  await dataSources.create({ dataSourceId: "ds-analyze", name: "Analyze", provider: "manual" });
  await costs.batchCreate({
    dataSourceId: "ds-analyze",
    costs: [
      { date: "2024-01-15", cost: 12.5, resourceId: "vm-1", region: "on-premises", tags: { cluster: "prod" } },
      { date: "2024-01-15", cost: 8.75, resourceId: "vm-2", region: "on-premises", tags: { cluster: "prod" } },
      { date: "2024-01-15", cost: 5.25, resourceId: "vm-3", region: "on-premises", tags: { cluster: "dev" } },
      { date: "2024-01-16", cost: 0.1, resourceId: "vm-1", region: "on-premises", tags: { cluster: "prod" } },
      { date: "2024-01-16", cost: 0.2, resourceId: "vm-1", region: "on-premises", tags: { cluster: "prod" } },
      { date: "2024-02-01", cost: 100, resourceId: "vm-4", region: "eu-west", tags: {} },
      { date: "2024-02-01", cost: 9.99, resourceId: "vm-4", currency: "EUR", region: "eu-west", tags: {} },
      { date: "2025-03-01", cost: 1, resourceId: "vm-1", region: "on-premises", tags: { cluster: "prod" } },
    ],
  });
});

afterAll(async () => {
  await platform?.close();
});

const failure = (promise: Promise<unknown>) => promise.then(() => expect.fail("expected an error"), (err) => decodeError(err));
const text = (value: string) => ({ kind: { case: "stringValue" as const, value } });

describe("CostService.Analyze", () => {
  it("sums per day, month and year, one row per currency, ordered by date then cost", async () => {
    const daily = await costs.analyze({ granularity: Granularity.DAILY, start: "2024-01-01", end: "2024-12-31" });
    expect(daily.results.map((r) => [r.date, r.cost, r.currency])).toEqual([
      ["2024-01-15", 26.5, "USD"],
      ["2024-01-16", 0.3, "USD"],
      ["2024-02-01", 100, "USD"],
      ["2024-02-01", 9.99, "EUR"],
    ]);
    expect(daily.totalCount).toBe(4);
    const monthly = await costs.analyze({ granularity: Granularity.MONTHLY, start: "2024-01-01", end: "2025-12-31" });
    expect(monthly.results.map((r) => [r.date, r.cost, r.currency])).toEqual([
      ["2024-01", 26.8, "USD"],
      ["2024-02", 100, "USD"],
      ["2024-02", 9.99, "EUR"],
      ["2025-03", 1, "USD"],
    ]);
    const yearly = await costs.analyze({ granularity: Granularity.YEARLY, start: "2024-01-15", end: "2025-03-01" });
    expect(yearly.results.map((r) => [r.date, r.cost, r.currency])).toEqual([
      ["2024", 126.8, "USD"],
      ["2024", 9.99, "EUR"],
      ["2025", 1, "USD"],
    ]);
  });

  it("groups by tags and columns (a missing tag is \"\") and filters like List", async () => {
    const byCluster = await costs.analyze({ granularity: Granularity.MONTHLY, start: "2024-01-01", end: "2024-01-31", groupBy: ["tags.cluster", "region"] });
    expect(byCluster.results.map((r) => [r.date, r.groups, r.cost])).toEqual([
      ["2024-01", { "tags.cluster": "prod", region: "on-premises" }, 21.55],
      ["2024-01", { "tags.cluster": "dev", region: "on-premises" }, 5.25],
    ]);
    const missingTag = await costs.analyze({ granularity: Granularity.YEARLY, start: "2024-02-01", end: "2024-02-01", groupBy: ["tags.cluster"], filter: [{ k: "currency", v: text("USD") }] });
    expect(missingTag.results).toEqual([expect.objectContaining({ date: "2024", groups: { "tags.cluster": "" }, cost: 100, currency: "USD" })]);
    const filtered = await costs.analyze({
      granularity: Granularity.DAILY,
      start: "2024-01-01",
      end: "2024-12-31",
      groupBy: ["resource_id"],
      filter: [{ k: "tags.cluster", v: text("prod") }, { k: "resource_id", v: { kind: { case: "listValue", value: { values: [text("vm-1"), text("vm-9")] } } }, o: "in" }],
    });
    expect(filtered.results.map((r) => [r.date, r.groups.resource_id, r.cost])).toEqual([
      ["2024-01-15", "vm-1", 12.5],
      ["2024-01-16", "vm-1", 0.3],
    ]);
  });

  it("pages over the result rows with total_count before paging", async () => {
    const page = await costs.analyze({ granularity: Granularity.DAILY, start: "2024-01-01", end: "2025-12-31", groupBy: ["resource_id"], page: { start: 1, limit: 2 } });
    expect(page.totalCount).toBe(7);
    expect(page.results.map((r) => [r.date, r.groups.resource_id])).toEqual([
      ["2024-01-15", "vm-2"],
      ["2024-01-15", "vm-3"],
    ]);
  });

  it("refuses bad dates, end before start, unknown group_by and filter keys", async () => {
    expect(await failure(costs.analyze({ start: "2024-01-01" }))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "end" } });
    expect(await failure(costs.analyze({ start: "01-01-2024", end: "2024-02-01" }))).toMatchObject({ message: "Date must be in YYYY-MM-DD format", metadata: { parameter: "start", value: "01-01-2024" } });
    expect(await failure(costs.analyze({ start: "2024-02-01", end: "2024-01-01" }))).toMatchObject({ metadata: { parameter: "end" } });
    expect(await failure(costs.analyze({ start: "2024-01-01", end: "2024-02-01", groupBy: ["price"] }))).toMatchObject({ metadata: { parameter: "group_by[0]", value: "price" } });
    expect(await failure(costs.analyze({ start: "2024-01-01", end: "2024-02-01", groupBy: ["tags.x'; drop table cost.costs;--"] }))).toMatchObject({ metadata: { parameter: "group_by[0]" } });
    expect(await failure(costs.analyze({ start: "2024-01-01", end: "2024-02-01", filter: [{ k: "price", v: text("1") }] }))).toMatchObject({ metadata: { parameter: "filter[0]" } });
    expect(await failure(costs.analyze({ start: "2024-01-01", end: "2024-02-01", granularity: 7 as Granularity }))).toMatchObject({ metadata: { parameter: "granularity" } });
    expect(await failure(costs.analyze({ start: "2024-01-01", end: "2024-02-01", page: { limit: 1001 } }))).toMatchObject({ metadata: { parameter: "page.limit" } });
  });
});

describe("CostService.Analyze (property)", () => {
  const row = fc.record({
    day: fc.integer({ min: 0, max: 500 }),
    cents: fc.integer({ min: 0, max: 10_000_000 }),
    currency: fc.constantFrom("USD", "EUR"),
    resourceId: fc.constantFrom("vm-a", "vm-b", "vm-c"),
    cluster: fc.option(fc.constantFrom("prod", "dev"), { nil: undefined }),
  });
  const groupings = fc.subarray(["tags.cluster", "resource_id", "region"]);
  const granularities = fc.constantFrom(Granularity.DAILY, Granularity.MONTHLY, Granularity.YEARLY);
  const dateOf = (day: number) => new Date(Date.UTC(2023, 10, 1) + day * 86_400_000).toISOString().slice(0, 10);
  const periodLength = { [Granularity.DAILY]: 10, [Granularity.MONTHLY]: 7, [Granularity.YEARLY]: 4 };
  let run = 0;

  it("every row is the exact decimal sum of the rows pushed into its group, and the rows add up to the total", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(row, { minLength: 1, maxLength: 60 }), granularities, groupings, async (rows, granularity, groupBy) => {
        const dataSourceId = `ds-prop-${run++}`;
        await dataSources.create({ dataSourceId, name: dataSourceId, provider: "manual" });
        const sent = rows.map((r) => ({ date: dateOf(r.day), cost: r.cents / 100, currency: r.currency, resourceId: r.resourceId, region: "r1", tags: (r.cluster ? { cluster: r.cluster } : {}) as Record<string, string> }));
        const half = Math.ceil(sent.length / 2);
        await costs.batchCreate({ dataSourceId, costs: sent.slice(0, half) });
        for (const single of sent.slice(half)) await costs.create({ dataSourceId, ...single });

        const expected = new Map<string, number>();
        for (const [i, r] of rows.entries()) {
          const groups = groupBy.map((key) => (key === "tags.cluster" ? (r.cluster ?? "") : key === "resource_id" ? r.resourceId : "r1"));
          const key = JSON.stringify([sent[i].date.slice(0, periodLength[granularity]), ...groups, r.currency]);
          expected.set(key, (expected.get(key) ?? 0) + r.cents);
        }
        const answer = await costs.analyze({ granularity, start: "2023-01-01", end: "2025-12-31", groupBy, filter: [{ k: "data_source_id", v: text(dataSourceId) }], page: { limit: 1000 } });
        expect(answer.totalCount).toBe(expected.size);
        const actual = new Map(answer.results.map((r) => [JSON.stringify([r.date, ...groupBy.map((k) => r.groups[k]), r.currency]), Math.round(r.cost * 100)]));
        expect(actual).toEqual(expected);
        for (const result of answer.results) expect(result.cost).toBe(Math.round(result.cost * 100) / 100);
        const dates = answer.results.map((r) => r.date);
        expect(dates).toEqual([...dates].sort());
      }),
      { numRuns: 25 },
    );
  });
});
