import { fromJson } from "@bufbuild/protobuf";
import { createTestSchema, type TestSchema } from "@cloudforet/testing";
import { StatQuerySchema } from "@cloudforet/proto/cloudforet/common/v1/query_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { QueryFields } from "./field-map";
import { statWith } from "./stat-with";
import { cloudServiceFields, createCloudServices, type CloudServiceTable } from "./test-support/cloud-service-fixture";
import { expectInvalid } from "./test-support/expect-invalid";

let test: TestSchema;
let table: CloudServiceTable;
let fields: QueryFields;

beforeAll(async () => {
  test = await createTestSchema("query_stat");
  table = await createCloudServices(test);
  fields = cloudServiceFields(table);
});

afterAll(async () => {
  await test?.drop();
});

/** Seed 000, "Statistics Query", verbatim. */
const seedRequest = {
  query: {
    aggregate: [
      {
        group: {
          keys: ["data.cluster", "state"],
        },
        statistics: {
          count: { key: "cloud_service_id" },
          avg_cpu: { field: "data.cpu_cores" },
          avg_memory: { field: "data.memory_gb" },
          total_disk: { field: "data.disk_total_gb" },
        },
      },
    ],
    filter: [
      { k: "provider", v: "nutanix", o: "eq" },
      { k: "cloud_service_type", v: "compute.Instance", o: "eq" },
    ],
  },
};

/** Seed 000's response. */
const seedResponse = {
  results: [
    { cluster: "cluster-prod-01", state: "ON", count: 42, avg_cpu: 12.5, avg_memory: 48.0, total_disk: 21000.0 },
    { cluster: "cluster-prod-01", state: "OFF", count: 8, avg_cpu: 4.0, avg_memory: 16.0, total_disk: 2000.0 },
    { cluster: "cluster-dev-01", state: "ON", count: 15, avg_cpu: 8.0, avg_memory: 32.0, total_disk: 1500.0 },
  ],
};

describe("statWith: seed 000 Statistics Query", () => {
  it("answers the seed request with exactly the seed's three rows", async () => {
    expect(await statWith(test.db, table, fields, seedRequest.query)).toEqual(seedResponse);
  });

  it("answers the generated StatQuery message the same", async () => {
    const message = fromJson(StatQuerySchema, seedRequest.query);
    expect(await statWith(test.db, table, fields, message)).toEqual(seedResponse);
  });

  it("returns numbers as JS numbers", async () => {
    const { results } = await statWith(test.db, table, fields, seedRequest.query);
    for (const row of results) {
      for (const name of ["count", "avg_cpu", "avg_memory", "total_disk"]) expect(typeof row[name]).toBe("number");
    }
  });

  it("sorts by a statistic or a group key, and pages", async () => {
    const byCount = await statWith(test.db, table, fields, { ...seedRequest.query, sort: { key: "count", desc: true } });
    expect(byCount.results.map((row) => row.count)).toEqual([42, 15, 8]);
    const byCluster = await statWith(test.db, table, fields, {
      ...seedRequest.query,
      sort: [{ key: "cluster" }, { key: "state" }],
      page: { start: 1, limit: 1 },
    });
    expect(byCluster.results).toEqual([seedResponse.results[1]]);
    const byFullKey = await statWith(test.db, table, fields, { ...seedRequest.query, sort: { key: "data.cluster" }, page: { limit: 1 } });
    expect(byFullKey.results[0].cluster).toBe("cluster-dev-01");
  });

  it("supports every operator", async () => {
    const { results } = await statWith(test.db, table, fields, {
      filter: [{ k: "provider", v: "nutanix" }, { k: "cloud_service_type", v: "compute.Instance" }],
      aggregate: [
        {
          group: { keys: ["state"] },
          statistics: {
            n: { operator: "count" },
            total_cpu: { key: "data.cpu_cores" },
            sum_mem: { key: "data.memory_gb", operator: "sum" },
            mean_cpu: { key: "data.cpu_cores", operator: "avg" },
            min_cpu: { key: "data.cpu_cores" },
            max_cpu: { key: "data.cpu_cores" },
            min_name: { key: "name", operator: "min" },
            max_created: { key: "created_at", operator: "max" },
            clusters: { key: "data.cluster", operator: "add_to_set" },
            accounts: { key: "account", operator: "add_to_set" },
            names: { key: "name", operator: "push" },
            first_name: { key: "name", operator: "first" },
            last_name: { key: "name", operator: "last" },
          },
        },
      ],
      sort: { key: "state" },
    });
    expect(results).toHaveLength(2);
    const [off, on] = results;
    expect(off).toMatchObject({
      state: "OFF",
      n: 8,
      total_cpu: 32,
      sum_mem: 128,
      mean_cpu: 4,
      min_cpu: 4,
      max_cpu: 4,
      min_name: "prod-batch-01",
      clusters: ["cluster-prod-01"],
      accounts: ["sa-prod-cluster-01"],
      first_name: "prod-batch-01",
      last_name: "prod-batch-08",
    });
    expect(off.names).toEqual(["prod-batch-01", "prod-batch-02", "prod-batch-03", "prod-batch-04", "prod-batch-05", "prod-batch-06", "prod-batch-07", "prod-batch-08"]);
    expect(new Date(off.max_created as string).toISOString()).toBe("2024-01-01T00:49:00.000Z");
    expect(on).toMatchObject({ state: "ON", n: 57, min_cpu: 8, max_cpu: 33, min_name: "dev-app-04", first_name: "prod-web-server-01", last_name: "dev-app-15" });
    expect(on.total_cpu).toBe(525 + 15 * 8);
    expect(on.clusters).toEqual(["cluster-dev-01", "cluster-prod-01"]);
    expect(on.names).toHaveLength(57);
  });

  it("computes a grand total without group keys", async () => {
    const { results } = await statWith(test.db, table, fields, {
      aggregate: [{ statistics: { count: {}, total_disk: { key: "data.disk_total_gb" }, avg_cpu: { key: "data.cpu_cores" } } }],
    });
    // aws-web-01's cpu_cores is "lots": not a number, so left out of the average, not an error.
    expect(results).toEqual([{ count: 67, total_disk: 24500, avg_cpu: (525 + 32 + 120) / 65 }]);
  });

  it("lists distinct groups without statistics, and takes {key, name} group keys", async () => {
    const { results } = await statWith(test.db, table, fields, {
      aggregate: [{ group: { keys: [{ key: "tags.environment", name: "env" }] } }],
      sort: { key: "env" },
    });
    expect(results).toEqual([{ env: "development" }, { env: "production" }]);
  });

  it("averages to a float and sums exactly", async () => {
    const { results } = await statWith(test.db, table, fields, {
      filter: [{ k: "name", v: ["prod-web-server-01", "prod-web-server-42"], o: "in" }],
      aggregate: [{ statistics: { avg_cpu: { key: "data.cpu_cores" }, sum_cpu: { key: "data.cpu_cores" } } }],
    });
    expect(results).toEqual([{ avg_cpu: 20.5, sum_cpu: 41 }]);
  });

  it("rejects what it cannot compute, naming the statistic", async () => {
    const stat = (statistics: Record<string, unknown>) =>
      statWith(test.db, table, fields, { aggregate: [{ group: { keys: ["state"] }, statistics }] } as never);
    await expectInvalid(() => stat({ cpu: { key: "data.cpu_cores" } }), "query.aggregate[0].statistics.cpu");
    await expectInvalid(() => stat({ cpu: { key: "data.cpu_cores", operator: "median" } }), "query.aggregate[0].statistics.cpu");
    await expectInvalid(() => stat({ avg_name: { key: "name" } }), "query.aggregate[0].statistics.avg_name");
    await expectInvalid(() => stat({ avg_x: { key: "secret.x" } }), "query.aggregate[0].statistics.avg_x");
    await expectInvalid(() => stat({ avg_x: { key: "data.x", field: "data.y" } }), "query.aggregate[0].statistics.avg_x");
    await expectInvalid(() => stat({ sum_x: {} }), "query.aggregate[0].statistics.sum_x");
    await expectInvalid(() => stat({ "bad name": { operator: "count" } }), "query.aggregate[0].statistics.?");
    await expectInvalid(() => stat({ state: { operator: "count" } }), "query.aggregate[0].statistics.state");
    await expectInvalid(
      () => statWith(test.db, table, fields, { aggregate: [{ group: { keys: ["data.cluster", "tags.cluster"] } }] }),
      "query.aggregate[0].group.keys[1]",
    );
    await expectInvalid(() => statWith(test.db, table, fields, { aggregate: [{ group: { keys: ["data.x'"] } }] }), "query.aggregate[0].group.keys[0]");
    await expectInvalid(() => statWith(test.db, table, fields, {}), "query.aggregate");
    await expectInvalid(() => statWith(test.db, table, fields, { aggregate: [{}, {}] }), "query.aggregate");
    await expectInvalid(() => statWith(test.db, table, fields, { ...seedRequest.query, sort: { key: "nope" } }), "query.sort.key");
    await expectInvalid(
      () => statWith(test.db, table, fields, { ...seedRequest.query, filter: [{ k: "data.cpu_cores", v: "x", o: "gtx" }] }),
      "query.filter[0]",
    );
  });
});
