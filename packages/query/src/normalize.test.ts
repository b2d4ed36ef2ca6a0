import { create, fromJson } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { FilterSchema, QuerySchema, StatQuerySchema } from "@cloudforet/proto/cloudforet/common/v1/query_pb";
import { describe, expect, it } from "vitest";
import { normalizeQuery } from "./normalize";
import { normalizeStatQuery } from "./normalize-stat";
import { expectInvalid } from "./test-support/expect-invalid";

describe("normalizeQuery", () => {
  it("reads the seed's JSON dialect", () => {
    const query = normalizeQuery({
      filter: [{ k: "provider", v: "nutanix", o: "eq" }, { k: "tags.environment", v: "production" }],
      sort: { key: "name", desc: false },
      page: { start: 0, limit: 50 },
      only: ["name", "data"],
    });
    expect(query).toEqual({
      filter: [
        { key: "provider", value: "nutanix", operator: "eq", parameter: "query.filter[0]" },
        { key: "tags.environment", value: "production", operator: "eq", parameter: "query.filter[1]" },
      ],
      filterOr: [],
      sort: [{ key: "name", desc: false, parameter: "query.sort.key" }],
      page: { start: 0, limit: 50 },
      only: [
        { path: "name", parameter: "query.only[0]" },
        { path: "data", parameter: "query.only[1]" },
      ],
      keyword: "",
      countOnly: false,
      parameter: "query",
    });
  });

  it("reads the generated message to the same shape", () => {
    const json = {
      filter: [{ k: "metric_name", v: ["cpu", "memory"], o: "in" }],
      filter_or: [{ k: "data.x", v: { a: [1, null, true] }, o: "eq" }],
      sort: { key: "timestamp", desc: true },
      page: { start: 5, limit: 1000 },
      only: ["x"],
      keyword: "web",
      count_only: true,
    };
    expect(normalizeQuery(fromJson(QuerySchema, json))).toEqual(normalizeQuery(json));
  });

  it("accepts camelCase, key/value/operator and a list of sorts", () => {
    const query = normalizeQuery({ filterOr: [{ key: "a", value: 1, operator: "gt" }], countOnly: true, sort: [{ key: "a" }, { key: "b", desc: true }] } as never);
    expect(query.filterOr).toEqual([{ key: "a", value: 1, operator: "gt", parameter: "query.filter_or[0]" }]);
    expect(query.countOnly).toBe(true);
    expect(query.sort.map((sort) => [sort.key, sort.desc, sort.parameter])).toEqual([
      ["a", false, "query.sort[0].key"],
      ["b", true, "query.sort[1].key"],
    ]);
  });

  it("defaults: eq, limit 100, start 0; proto3 zeros read as unset", () => {
    expect(normalizeQuery(undefined).page).toEqual({ start: 0, limit: 100 });
    expect(normalizeQuery({ page: { limit: 0 } }).page).toEqual({ start: 0, limit: 100 });
    const message = create(QuerySchema, { filter: [create(FilterSchema, { k: "a", v: fromJson(ValueSchema, "x") })], page: {} });
    const query = normalizeQuery(message);
    expect(query.filter[0].operator).toBe("eq");
    expect(query.page).toEqual({ start: 0, limit: 100 });
    expect(query.sort).toEqual([]);
    expect(normalizeQuery(create(QuerySchema, { filter: [create(FilterSchema, { k: "a", o: "exists" })] })).filter[0].value).toBeUndefined();
  });

  it("names the request field it was given", () => {
    const query = normalizeQuery({ filter: [{ k: "a", v: 1 }] }, { parameter: "options.query" });
    expect(query.filter[0].parameter).toBe("options.query.filter[0]");
  });

  it("refuses bad shapes, naming each", async () => {
    await expectInvalid(() => normalizeQuery({ filter: [{ k: "a", v: 1, o: "like" }] }), "query.filter[0]");
    await expectInvalid(() => normalizeQuery({ filter: [{ k: "", v: 1 }] }), "query.filter[0]");
    await expectInvalid(() => normalizeQuery({ filter: [{ k: "a".repeat(257), v: 1 }] }), "query.filter[0]");
    await expectInvalid(() => normalizeQuery({ filter: [{ k: "a", v: [..."x".repeat(1001)] }] }), "query.filter[0]");
    await expectInvalid(() => normalizeQuery({ page: { limit: 1001 } }), "query.page.limit");
    await expectInvalid(() => normalizeQuery({ page: { limit: -5 } }), "query.page.limit");
    await expectInvalid(() => normalizeQuery({ page: { start: -1 } }), "query.page.start");
    await expectInvalid(() => normalizeQuery({ page: { size: 1 } } as never), "query.page.size");
    await expectInvalid(() => normalizeQuery({ sort: [1, 2, 3, 4, 5, 6] } as never), "query.sort");
    await expectInvalid(() => normalizeQuery({ only: Array.from({ length: 101 }, () => "a") }), "query.only");
    await expectInvalid(() => normalizeQuery({ filter: Array.from({ length: 60 }, () => ({ k: "a", v: 1 })), filter_or: Array.from({ length: 41 }, () => ({ k: "a", v: 1 })) }), "query.filter");
    await expectInvalid(() => normalizeQuery(new Date() as never), "query");
  });
});

describe("normalizeStatQuery", () => {
  const seed = {
    aggregate: [
      {
        group: { keys: ["data.cluster", "state"] },
        statistics: {
          count: { key: "cloud_service_id" },
          avg_cpu: { field: "data.cpu_cores" },
          total_disk: { field: "data.disk_total_gb" },
          sum_x: { key: "x" },
          min_x: { key: "x" },
          max_x: { key: "x" },
          mean: { key: "x", operator: "avg" },
        },
      },
    ],
  };

  it("infers operators from names and names groups by their last segment", () => {
    const query = normalizeStatQuery(seed);
    expect(query.groupKeys.map((group) => [group.key, group.name])).toEqual([
      ["data.cluster", "cluster"],
      ["state", "state"],
    ]);
    expect(query.statistics.map((statistic) => [statistic.name, statistic.key, statistic.operator])).toEqual([
      ["count", "cloud_service_id", "count"],
      ["avg_cpu", "data.cpu_cores", "average"],
      ["total_disk", "data.disk_total_gb", "sum"],
      ["sum_x", "x", "sum"],
      ["min_x", "x", "min"],
      ["max_x", "x", "max"],
      ["mean", "x", "average"],
    ]);
  });

  it("reads the generated StatQuery to the same shape", () => {
    expect(normalizeStatQuery(fromJson(StatQuerySchema, seed))).toEqual(normalizeStatQuery(seed));
  });
});
