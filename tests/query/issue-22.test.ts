import { fromJson, type JsonObject } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import { cloudServiceModule } from "@cloudforet/cloud-service";
import { costModule } from "@cloudforet/cost";
import { decodeError } from "@cloudforet/errors";
import {
  CloudServiceService,
  CloudServiceServiceListRequestSchema,
  CloudServiceServiceStatRequestSchema,
} from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_pb";
import { CostService } from "@cloudforet/proto/cloudforet/cost/v1/cost_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPlatform, type TestPlatform } from "../support/platform";

// Issue 22's four repros through the RPCs, and List's total_count_exact field. 1,100 resources:
// more than cloud-service's count cap (1,000), so an unfiltered List's total_count is a bound.

let platform: TestPlatform;
let resources: Client<typeof CloudServiceService>;
let costs: Client<typeof CostService>;

const resourceCount = 1100;

/** cpu_cores: numbers (8 for every fourth), one string "8"; enabled: booleans; cluster: missing, null or a name. */
function item(i: number) {
  const data: JsonObject = { cpu_cores: i === 3 ? "8" : [8, 64, 40, 2][i % 4], enabled: i % 2 === 0 };
  if (i % 5 === 1) data.cluster = null;
  else if (i % 5 !== 0) data.cluster = `cluster-${i % 3}`;
  return {
    cloudServiceType: "compute.Instance",
    cloudServiceName: `vm-${String(i).padStart(5, "0")}`,
    provider: "nutanix",
    data,
    reference: { resourceId: `vm-${i}` },
  };
}

beforeAll(async () => {
  platform = await startTestPlatform({ modules: [cloudServiceModule, costModule] });
  resources = platform.client(CloudServiceService);
  costs = platform.client(CostService);
  const loaded = await resources.batchUpsert(
    (async function* () {
      yield { items: Array.from({ length: resourceCount }, (_, i) => item(i)) };
    })(),
  );
  expect(loaded.createdCount).toBe(resourceCount);
}, 120_000);

afterAll(async () => {
  await platform?.close();
});

const count = async (filter: JsonObject[]) =>
  (await resources.list(fromJson(CloudServiceServiceListRequestSchema, { query: { filter, count_only: true } }))).totalCount;

const stat = async (query: JsonObject) => (await resources.stat(fromJson(CloudServiceServiceStatRequestSchema, { query }))).results;

describe("issue 22 through the RPCs", () => {
  it("1. a string value on a JSON path matches only JSON strings", async () => {
    expect(await count([{ k: "data.cpu_cores", v: "8", o: "eq" }])).toBe(1);
    expect(await count([{ k: "data.cpu_cores", v: 8, o: "eq" }])).toBe(resourceCount / 4);
    expect(await count([{ k: "data.enabled", v: "true", o: "eq" }])).toBe(0);
    expect(await count([{ k: "data.cpu_cores", v: "5", o: "lt" }, { k: "data.cpu_cores", v: 40, o: "gt" }])).toBe(0);
  });

  it("2. Stat answers one null group for a missing key and JSON null", async () => {
    const groups = await stat({ aggregate: [{ group: { keys: ["data.cluster"] }, statistics: { count: {} } }], sort: { key: "cluster" } });
    expect(groups.map((group) => group.cluster)).toEqual(["cluster-0", "cluster-1", "cluster-2", null]);
    expect(groups[3]).toEqual({ cluster: null, count: (resourceCount / 5) * 2 });
  });

  it("3. Stat pages over groups tied on the sort key without repeating or skipping one", async () => {
    const page = (start: number) =>
      stat({ aggregate: [{ group: { keys: ["data.cpu_cores", "data.enabled"] }, statistics: { count: {} } }], sort: { key: "count" }, page: { start, limit: 2 } });
    const all = await stat({ aggregate: [{ group: { keys: ["data.cpu_cores", "data.enabled"] }, statistics: { count: {} } }], sort: { key: "count" } });
    const paged = [...(await page(0)), ...(await page(2)), ...(await page(4))];
    expect(paged).toEqual(all.slice(0, 6));
    expect(new Set(all.map((group) => JSON.stringify([group.cpu_cores, group.enabled]))).size).toBe(all.length);
  });

  it("4. a cost with more decimals than the storage keeps is INVALID_ARGUMENT naming cost", async () => {
    for (const cost of [5e-7, 1e-7]) {
      const error = await costs.create({ date: "2024-01-15", cost, resourceId: "vm-1" }).then(
        () => expect.fail("expected INVALID_ARGUMENT"),
        (err) => decodeError(err),
      );
      expect(error).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "cost" } });
    }
    const batch = await costs.batchCreate({ costs: [{ date: "2024-01-15", cost: 1e-7, resourceId: "vm-1" }, { date: "2024-01-15", cost: 0.000001, resourceId: "vm-2" }] });
    expect(batch).toMatchObject({ createdCount: 1, failedCount: 1 });
  });

  it("List says in total_count_exact whether total_count is exact, as its header does", async () => {
    const header: Record<string, string | null> = {};
    const exact = await resources.list(
      fromJson(CloudServiceServiceListRequestSchema, { query: { filter: [{ k: "data.cpu_cores", v: 8 }], page: { limit: 5 } } }),
      { onHeader: (headers) => (header.exact = headers.get("cloudforet-total-count-exact")) },
    );
    expect(exact).toMatchObject({ totalCount: resourceCount / 4, totalCountExact: true });
    expect(header.exact).toBe("true");
    const bounded = await resources.list(fromJson(CloudServiceServiceListRequestSchema, { query: { page: { limit: 5 } } }), {
      onHeader: (headers) => (header.bounded = headers.get("cloudforet-total-count-exact")),
    });
    expect(bounded).toMatchObject({ totalCount: 1001, totalCountExact: false });
    expect(header.bounded).toBe("false");
    const counted = await resources.list(fromJson(CloudServiceServiceListRequestSchema, { query: { count_only: true } }));
    expect(counted).toMatchObject({ totalCount: resourceCount, totalCountExact: true });
  });
});
