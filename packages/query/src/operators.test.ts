import { createTestSchema, type TestSchema } from "@cloudforet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { QueryFields } from "./field-map";
import { listWith } from "./list-with";
import { FILTER_OPERATORS } from "./operators";
import type { FilterJson } from "./query-input";
import { assetFields, createAssets, pinnedNow, uuids, type AssetTable } from "./test-support/asset-fixture";

let test: TestSchema;
let table: AssetTable;
let fields: QueryFields;

beforeAll(async () => {
  test = await createTestSchema("query_ops");
  table = await createAssets(test);
  fields = assetFields(table);
});

afterAll(async () => {
  await test?.drop();
});

async function ids(filter: FilterJson[], extra: { keyword?: string } = {}): Promise<string[]> {
  const response = await listWith(test.db, table, fields, { filter, only: ["id"], ...extra }, undefined, { now: pinnedNow });
  return response.results.map((row) => row.id as string);
}

type Case = [string, FilterJson, string[]];

/** Each operator over columns of each kind and over JSON paths: what matches, and what does not. */
const cases: Record<string, Case[]> = {
  eq: [
    ["text column", { k: "name", v: "delta", o: "eq" }, ["a4"]],
    ["text column is case-sensitive", { k: "name", v: "Delta", o: "eq" }, []],
    ["o defaults to eq", { k: "name", v: "O'Brien; DROP TABLE asset; --" }, ["a5"]],
    ["integer column", { k: "size", v: 10, o: "eq" }, ["a1"]],
    ["integer column, numeric string", { k: "size", v: "10", o: "eq" }, ["a1"]],
    ["numeric column", { k: "price", v: 1.5, o: "eq" }, ["a1"]],
    ["boolean column, true", { k: "active", v: true, o: "eq" }, ["a1", "a4"]],
    ["boolean column, string", { k: "active", v: "false", o: "eq" }, ["a2", "a5"]],
    ["uuid column, any case", { k: "ref", v: uuids.a1.toUpperCase(), o: "eq" }, ["a1"]],
    ["timestamptz column, other offset", { k: "seen_at", v: "2024-01-10T09:00:00+09:00", o: "eq" }, ["a1"]],
    ["enum column", { k: "status", v: "stopped", o: "eq" }, ["a2", "a4"]],
    ["enum column, unknown label", { k: "status", v: "paused", o: "eq" }, []],
    ["JSON string", { k: "meta.env", v: "prod", o: "eq" }, ["a1", "a3"]],
    ["JSON number", { k: "meta.cpu", v: 4, o: "eq" }, ["a1"]],
    ["JSON number, no match", { k: "meta.cpu", v: 5, o: "eq" }, []],
    ["JSON boolean", { k: "meta.flag", v: false, o: "eq" }, ["a2"]],
    ["JSON object", { k: "meta.nested", v: { deep: { x: 1 } }, o: "eq" }, ["a1"]],
    ["JSON array", { k: "meta.tags", v: ["db"], o: "eq" }, ["a2"]],
    ["deep JSON path", { k: "meta.nested.deep.x", v: 1, o: "eq" }, ["a1"]],
    ["null: missing JSON key", { k: "meta.env", v: null, o: "eq" }, ["a4"]],
    ["null: NULL column", { k: "size", v: null, o: "eq" }, ["a3"]],
  ],
  not: [
    ["text column", { k: "name", v: "delta", o: "not" }, ["a1", "a2", "a3", "a5"]],
    ["JSON path, missing keys included", { k: "meta.env", v: "prod", o: "not" }, ["a2", "a4", "a5"]],
    ["integer column, NULL included", { k: "size", v: 10, o: "not" }, ["a2", "a3", "a4", "a5"]],
    ["not null", { k: "meta.env", v: null, o: "not" }, ["a1", "a2", "a3", "a5"]],
    ["not null, absent everywhere", { k: "meta.nothing", v: null, o: "not" }, []],
  ],
  lt: [
    ["integer column", { k: "size", v: 10, o: "lt" }, ["a5"]],
    ["JSON number skips non-numbers", { k: "meta.cpu", v: 0, o: "lt" }, []],
    ["timestamptz column, date only", { k: "seen_at", v: "2024-01-15", o: "lt" }, ["a1"]],
    ["JSON string as text", { k: "meta.env", v: "e", o: "lt" }, ["a2"]],
  ],
  lte: [
    ["integer column", { k: "size", v: 10, o: "lte" }, ["a1", "a5"]],
    ["JSON number", { k: "meta.cpu", v: 2.5, o: "lte" }, ["a5"]],
    ["integer column, none", { k: "size", v: 1, o: "lte" }, []],
  ],
  gt: [
    ["integer column", { k: "size", v: 20, o: "gt" }, ["a4"]],
    ["numeric column", { k: "price", v: 2, o: "gt" }, ["a2", "a4"]],
    ["JSON number, the string 'eight' left out", { k: "meta.cpu", v: 3, o: "gt" }, ["a1", "a2"]],
    ["integer column, none", { k: "size", v: 100, o: "gt" }, []],
  ],
  gte: [
    ["integer column", { k: "size", v: 20, o: "gte" }, ["a2", "a4"]],
    ["timestamptz column", { k: "seen_at", v: "2024-02-26T23:00:00Z", o: "gte" }, ["a4", "a5"]],
    ["JSON number, none", { k: "meta.cpu", v: 9, o: "gte" }, []],
  ],
  between: [
    ["integer column, inclusive", { k: "size", v: [5, 10], o: "between" }, ["a1", "a5"]],
    ["JSON number", { k: "meta.cpu", v: [2, 4], o: "between" }, ["a1", "a5"]],
    ["timestamptz column", { k: "seen_at", v: ["2024-01-01", "2024-01-20T00:00:00Z"], o: "between" }, ["a1", "a2"]],
    ["JSON string", { k: "meta.env", v: ["d", "e"], o: "between" }, ["a2"]],
    ["none", { k: "size", v: [100, 200], o: "between" }, []],
  ],
  exists: [
    ["JSON key present", { k: "meta.tags", v: true, o: "exists" }, ["a1", "a2", "a3"]],
    ["JSON key absent", { k: "meta.tags", v: false, o: "exists" }, ["a4", "a5"]],
    ["deep JSON key", { k: "meta.nested.deep", v: true, o: "exists" }, ["a1"]],
    ["column NULL", { k: "size", v: false, o: "exists" }, ["a3"]],
    ["column present", { k: "id", v: false, o: "exists" }, []],
  ],
  contain: [
    ["case-insensitive substring", { k: "name", v: "WEB", o: "contain" }, ["a1"]],
    ["% matches itself", { k: "name", v: "%", o: "contain" }, ["a3"]],
    ["_ matches itself", { k: "name", v: "_", o: "contain" }, ["a2"]],
    ["JSON array element or JSON string substring", { k: "meta.tags", v: "web", o: "contain" }, ["a1", "a3"]],
    ["array elements match whole", { k: "meta.tags", v: "we", o: "contain" }, ["a3"]],
    ["JSON string with %", { k: "meta.note", v: "100%", o: "contain" }, ["a2"]],
    ["integer column as text", { k: "size", v: 4, o: "contain" }, ["a4"]],
    ["none", { k: "name", v: "zzz", o: "contain" }, []],
  ],
  not_contain: [
    ["text column", { k: "name", v: "web", o: "not_contain" }, ["a2", "a3", "a4", "a5"]],
    ["JSON array, missing included", { k: "meta.tags", v: "web", o: "not_contain" }, ["a2", "a4", "a5"]],
    ["none", { k: "id", v: "a", o: "not_contain" }, []],
  ],
  in: [
    ["enum column", { k: "status", v: ["running"], o: "in" }, ["a1", "a3", "a5"]],
    ["JSON strings", { k: "meta.env", v: ["dev", "prod"], o: "in" }, ["a1", "a2", "a3"]],
    ["JSON numbers", { k: "meta.cpu", v: [4, 8], o: "in" }, ["a1", "a2"]],
    ["JSON mixed types", { k: "meta.cpu", v: ["eight", 4], o: "in" }, ["a1", "a3"]],
    ["with null", { k: "size", v: [10, null], o: "in" }, ["a1", "a3"]],
    ["uuid column", { k: "ref", v: [uuids.a1, uuids.a2], o: "in" }, ["a1", "a2"]],
    ["timestamptz column", { k: "seen_at", v: ["2024-01-10T00:00:00Z"], o: "in" }, ["a1"]],
    ["JSON boolean", { k: "meta.flag", v: [true], o: "in" }, ["a1"]],
    ["empty list", { k: "id", v: [], o: "in" }, []],
    ["none", { k: "name", v: ["x", "y"], o: "in" }, []],
  ],
  not_in: [
    ["JSON path, missing included", { k: "meta.env", v: ["prod"], o: "not_in" }, ["a2", "a4", "a5"]],
    ["integer column, NULL included", { k: "size", v: [10, 20], o: "not_in" }, ["a3", "a4", "a5"]],
    ["empty list", { k: "id", v: [], o: "not_in" }, ["a1", "a2", "a3", "a4", "a5"]],
    ["none", { k: "id", v: ["a1", "a2", "a3", "a4", "a5"], o: "not_in" }, []],
  ],
  contain_in: [
    ["text column", { k: "name", v: ["alp", "DEL"], o: "contain_in" }, ["a1", "a4"]],
    ["JSON array elements", { k: "meta.tags", v: ["db", "blue"], o: "contain_in" }, ["a1", "a2"]],
    ["none", { k: "name", v: ["zzz"], o: "contain_in" }, []],
  ],
  not_contain_in: [
    ["text column", { k: "name", v: ["alp", "del"], o: "not_contain_in" }, ["a2", "a3", "a5"]],
    ["none", { k: "id", v: ["a"], o: "not_contain_in" }, []],
  ],
  regex: [
    ["text column", { k: "name", v: "^[A-Z]", o: "regex" }, ["a1", "a3", "a5"]],
    ["JSON string", { k: "meta.env", v: "^pr", o: "regex" }, ["a1", "a3", "a5"]],
    ["integer column as text", { k: "size", v: "^4", o: "regex" }, ["a4"]],
    ["none", { k: "name", v: "^zz", o: "regex" }, []],
  ],
  datetime_lt: [
    ["JSON date strings; invalid ones are skipped", { k: "meta.born", v: "2024-02-01", o: "datetime_lt" }, ["a1"]],
    ["timestamptz column, none", { k: "seen_at", v: "2024-01-10", o: "datetime_lt" }, []],
  ],
  datetime_lte: [
    ["timestamptz column", { k: "seen_at", v: "2024-01-20T00:00:00Z", o: "datetime_lte" }, ["a1", "a2"]],
    ["text column that holds no dates", { k: "name", v: "2030-01-01", o: "datetime_lte" }, []],
  ],
  datetime_gt: [
    ["timestamptz column", { k: "seen_at", v: "2024-01-15T00:00:00Z", o: "datetime_gt" }, ["a2", "a4", "a5"]],
    ["none", { k: "seen_at", v: "2025-01-01T00:00:00Z", o: "datetime_gt" }, []],
  ],
  datetime_gte: [
    ["JSON date without offset is UTC", { k: "meta.born", v: "2024-02-28T10:00:00Z", o: "datetime_gte" }, ["a5"]],
    ["none", { k: "meta.born", v: "2024-02-28T10:00:01Z", o: "datetime_gte" }, []],
  ],
  timediff_lt: [
    ["midnight 14 days ago", { k: "seen_at", v: "now/d-14d", o: "timediff_lt" }, ["a1", "a2"]],
    ["none", { k: "seen_at", v: "now-520w", o: "timediff_lt" }, []],
  ],
  timediff_lte: [
    ["a week ago", { k: "seen_at", v: "now - 1w", o: "timediff_lte" }, ["a1", "a2"]],
    ["none", { k: "seen_at", v: "now/d-100d", o: "timediff_lte" }, []],
  ],
  timediff_gt: [
    ["the last two hours", { k: "seen_at", v: "now-2h", o: "timediff_gt" }, ["a4"]],
    ["none", { k: "seen_at", v: "now+1d", o: "timediff_gt" }, []],
  ],
  timediff_gte: [
    ["since Monday", { k: "seen_at", v: "now/w", o: "timediff_gte" }, ["a4", "a5"]],
    ["none", { k: "seen_at", v: "now+30m", o: "timediff_gte" }, []],
  ],
};

describe("filter operators", () => {
  for (const [operator, operatorCases] of Object.entries(cases)) {
    describe(operator, () => {
      it.each(operatorCases)("%s", async (_name, filter, expected) => {
        expect(await ids([filter])).toEqual(expected);
      });
    });
  }

  it("covers every operator with a match and a non-match", () => {
    for (const operator of FILTER_OPERATORS) {
      const operatorCases = cases[operator] ?? [];
      expect(operatorCases.some(([, , expected]) => expected.length > 0), `${operator} positive`).toBe(true);
      expect(operatorCases.some(([, , expected]) => expected.length === 0), `${operator} negative`).toBe(true);
    }
  });

  it("ANDs filters", async () => {
    expect(await ids([{ k: "status", v: "running" }, { k: "meta.env", v: "prod" }])).toEqual(["a1", "a3"]);
  });

  it("searches keyword over columns and JSON paths", async () => {
    expect(await ids([], { keyword: "bri" })).toEqual(["a5"]);
    expect(await ids([], { keyword: "PROD" })).toEqual(["a1", "a3", "a5"]);
    expect(await ids([], { keyword: "_" })).toEqual(["a2"]);
  });
});
