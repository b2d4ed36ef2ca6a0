import { create } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { createTestSchema, type TestSchema } from "@cloudforet/testing";
import { FilterSchema, QuerySchema } from "@cloudforet/proto/cloudforet/common/v1/query_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { QueryFields } from "./field-map";
import { listWith } from "./list-with";
import type { FilterJson, QueryJson } from "./query-input";
import { statWith } from "./stat-with";
import { cloudServiceFields, createCloudServices, type CloudServiceTable } from "./test-support/cloud-service-fixture";
import { expectInvalid } from "./test-support/expect-invalid";

let test: TestSchema;
let table: CloudServiceTable;
let fields: QueryFields;

const hostileName = "x'); DROP TABLE cloud_service; --";
const hostileNote = "/* comment */ ' OR 1=1 -- \" ; \\ %_";

beforeAll(async () => {
  test = await createTestSchema("query_hostile");
  table = await createCloudServices(test);
  fields = cloudServiceFields(table);
  await test.db.insert(table).values({
    cloudServiceId: "cs-hostile",
    name: hostileName,
    provider: "nutanix",
    cloudServiceType: "compute.Instance",
    state: "ON",
    account: "sa-prod-cluster-01",
    data: { note: hostileNote, "we'ird key": 1 },
    tags: {},
    createdAt: new Date("2024-06-01T00:00:00Z"),
  });
});

afterAll(async () => {
  await test?.drop();
});

const rowCount = 68;

async function tableIsIntact() {
  const [{ count }] = await test.sql`select count(*)::int as count from ${test.sql(test.schema)}.cloud_service`;
  expect(count).toBe(rowCount);
}

const list = (query: QueryJson | unknown) => listWith(test.db, table, fields, query as QueryJson);
const filtered = (...filter: FilterJson[]) => list({ filter });

describe("hostile keys are INVALID_ARGUMENT naming the filter", () => {
  const badKeys = [
    'name"; DROP TABLE cloud_service; --',
    "name; DROP TABLE cloud_service",
    "name--",
    "data.a'b",
    'data."cluster"',
    "data.a;b",
    "data./*x*/",
    "data.a b",
    "data..cluster",
    ".data",
    "data.",
    " name",
    "name ",
    "data.clüster",
    "data.a\u0000b",
    "password",
    "pg_catalog.pg_user",
    "__proto__",
    "constructor",
    "cloud_service.name",
    "name.sub",
    `data.${Array.from({ length: 9 }, (_, i) => `l${i}`).join(".")}`,
    `data.${"a".repeat(300)}`,
  ];
  it.each(badKeys)("%j", async (key) => {
    await expectInvalid(() => list({ filter: [{ k: "provider", v: "nutanix" }, { k: key, v: "x" }] }), "query.filter[1]");
  });

  it("names filter_or entries and the other places keys go", async () => {
    await expectInvalid(() => list({ filter_or: [{ k: "name'--", v: "x" }] }), "query.filter_or[0]");
    await expectInvalid(() => list({ sort: { key: "name desc; --" } }), "query.sort.key");
    await expectInvalid(() => list({ only: ["data.x'y"] }), "query.only[0]");
    await expectInvalid(
      () => statWith(test.db, table, fields, { aggregate: [{ group: { keys: ["state", "data.a;b"] } }] }),
      "query.aggregate[0].group.keys[1]",
    );
  });

  it("accepts a path as deep as the cap, and odd-but-valid segments harmlessly", async () => {
    const deep = `data.${Array.from({ length: 8 }, (_, i) => `l${i}`).join(".")}`;
    expect(await filtered({ k: deep, v: "x" })).toEqual({ results: [], total_count: 0, total_count_exact: true });
    expect(await filtered({ k: "data.a--b", v: "x" })).toEqual({ results: [], total_count: 0, total_count_exact: true });
    expect(await filtered({ k: "data.NULL", v: "x" })).toEqual({ results: [], total_count: 0, total_count_exact: true });
    await tableIsIntact();
  });
});

describe("unknown operators and wrong value types are INVALID_ARGUMENT", () => {
  const bad: [string, FilterJson][] = [
    ["unknown operator", { k: "name", v: "x", o: "eq; DROP TABLE cloud_service" }],
    ["operator in capitals", { k: "name", v: "x", o: "EQ" }],
    ["mongo operator", { k: "name", v: "x", o: "$where" }],
    ["operator not a string", { k: "name", v: "x", o: 1 as never }],
    ["string for a datetime column", { k: "created_at", v: "yesterday", o: "gt" }],
    ["impossible date", { k: "created_at", v: "2024-02-30T00:00:00Z", o: "eq" }],
    ["year 0", { k: "created_at", v: "0000-01-01", o: "eq" }],
    ["number for a datetime column", { k: "created_at", v: 5, o: "eq" }],
    ["number for a text column", { k: "name", v: 5, o: "eq" }],
    ["object for a text column", { k: "name", v: { $ne: 1 }, o: "eq" }],
    ["list for eq on a column", { k: "name", v: ["a"], o: "eq" }],
    ["in without a list", { k: "name", v: "a", o: "in" }],
    ["in with a wrong-typed member", { k: "created_at", v: ["2024-01-01", "soon"], o: "in" }],
    ["between with three values", { k: "data.cpu_cores", v: [1, 2, 3], o: "between" }],
    ["between with mixed types", { k: "data.cpu_cores", v: [1, "2"], o: "between" }],
    ["exists with a string", { k: "name", v: "yes", o: "exists" }],
    ["lt with a boolean", { k: "data.cpu_cores", v: true, o: "lt" }],
    ["lt with null", { k: "data.cpu_cores", v: null, o: "lt" }],
    ["contain with an object", { k: "name", v: { a: 1 }, o: "contain" }],
    ["contain_in with null", { k: "name", v: [null], o: "contain_in" }],
    ["regex that does not compile", { k: "name", v: "(", o: "regex" }],
    ["regex repetition over 255", { k: "name", v: "a{300}", o: "regex" }],
    ["regex back-reference", { k: "name", v: "(a)\\1", o: "regex" }],
    ["regex named group", { k: "name", v: "(?<n>a)", o: "regex" }],
    ["regex too complex", { k: "name", v: "((a{100}){100}){100}", o: "regex" }],
    ["regex too long", { k: "name", v: "a".repeat(300), o: "regex" }],
    ["datetime_lt with a relative time", { k: "created_at", v: "now-1d", o: "datetime_lt" }],
    ["timediff with an unknown unit", { k: "created_at", v: "now-5y", o: "timediff_lt" }],
    ["timediff without now", { k: "created_at", v: "2024-01-01", o: "timediff_lt" }],
    ["missing value", { k: "name", o: "eq" }],
    ["NUL in a value", { k: "name", v: "a\u0000b" }],
    ["lone surrogate in a value", { k: "name", v: "a\ud800b" }],
    ["lone surrogate in an object key", { k: "data", v: { "\udc00": 1 } }],
    ["huge string", { k: "name", v: "x".repeat(5000) }],
    ["non-finite number", { k: "data.cpu_cores", v: Number.POSITIVE_INFINITY }],
    ["function value", { k: "name", v: (() => 1) as never }],
    ["deeply nested object", { k: "data", v: JSON.parse(`${"[".repeat(20)}1${"]".repeat(20)}`) }],
    ["unknown filter field", { k: "name", v: "x", where: "1=1" } as never],
  ];
  it.each(bad)("%s", async (_name, filter) => {
    await expectInvalid(() => filtered({ k: "provider", v: "nutanix" }, filter), "query.filter[1]");
  });

  it("a huge in list: 1000 values are fine, 1001 are refused", async () => {
    const values = Array.from({ length: 1000 }, (_, i) => `cs-${i}'--`);
    expect((await filtered({ k: "cloud_service_id", v: [...values.slice(1), "cs-aws-01"], o: "in" })).total_count).toBe(1);
    await expectInvalid(() => filtered({ k: "cloud_service_id", v: [...values, "x"], o: "in" }), "query.filter[0]");
    await expectInvalid(() => filtered({ k: "name", v: [...values, "x"], o: "contain_in" }), "query.filter[0]");
  });

  it("100 filters are fine, 101 are refused", async () => {
    const filters = Array.from({ length: 100 }, () => ({ k: "provider", v: "nutanix" }));
    expect((await list({ filter: filters, count_only: true })).total_count).toBe(67);
    await expectInvalid(() => list({ filter: [...filters, { k: "state", v: "ON" }] }), "query.filter");
  });

  it("100 filters of 1000-value lists stay within Postgres's bind-parameter limit", async () => {
    const values = Array.from({ length: 1000 }, (_, i) => `v${i}`);
    const filters = Array.from({ length: 100 }, () => ({ k: "data.cluster", v: [...values.slice(1), "cluster-dev-01"], o: "in" }));
    expect((await list({ filter: filters, count_only: true })).total_count).toBe(15);
  });

  it("rejects malformed query shapes", async () => {
    await expectInvalid(() => list("select 1"), "query");
    await expectInvalid(() => list([]), "query");
    await expectInvalid(() => list({ drop: true }), "query.drop");
    await expectInvalid(() => list({ filter: "name=x" }), "query.filter");
    await expectInvalid(() => list({ filter: ["name"] }), "query.filter[0]");
    await expectInvalid(() => list({ filter: [{ v: "x" }] }), "query.filter[0]");
    await expectInvalid(() => list({ page: { limit: "50; --" } }), "query.page.limit");
    await expectInvalid(() => list({ page: { limit: 1.5 } }), "query.page.limit");
    await expectInvalid(() => list({ page: { start: 2 ** 40 } }), "query.page.start");
    await expectInvalid(() => list({ sort: { key: "name", desc: "yes" } }), "query.sort.desc");
    await expectInvalid(() => list({ count_only: "true" }), "query.count_only");
    await expectInvalid(() => list({ keyword: "k".repeat(300) }), "query.keyword");
    await expectInvalid(() => list({ only: "name" }), "query.only");
  });

  it("rejects a proto Value the database cannot hold", async () => {
    const query = create(QuerySchema, {
      filter: [create(FilterSchema, { k: "data.cpu_cores", v: create(ValueSchema, { kind: { case: "numberValue", value: Number.NaN } }), o: "gt" })],
    });
    await expectInvalid(() => listWith(test.db, table, fields, query), "query.filter[0]");
  });
});

describe("hostile values are data, matched literally", () => {
  it("finds the row whose name is an injection attempt, by eq, contain and in", async () => {
    const byEq = await filtered({ k: "name", v: hostileName });
    expect(byEq.results.map((row) => row.cloud_service_id)).toEqual(["cs-hostile"]);
    expect((await filtered({ k: "name", v: "'); DROP", o: "contain" })).total_count).toBe(1);
    expect((await filtered({ k: "name", v: [hostileName, "x' OR '1'='1"], o: "in" })).total_count).toBe(1);
    expect((await filtered({ k: "name", v: "x' OR '1'='1" })).total_count).toBe(0);
    await tableIsIntact();
  });

  it("matches JSON strings with comments, quotes, backslashes and LIKE wildcards literally", async () => {
    expect((await filtered({ k: "data.note", v: hostileNote })).total_count).toBe(1);
    expect((await filtered({ k: "data.note", v: "' or 1=1 -- \" ; \\ %_", o: "contain" })).total_count).toBe(1);
    expect((await filtered({ k: "data.note", v: "\\ %_x", o: "contain" })).total_count).toBe(0);
    expect((await filtered({ k: "data.note", v: "^/\\* comment \\*/", o: "regex" })).total_count).toBe(1);
    expect((await list({ keyword: "'); drop", count_only: true })).total_count).toBe(1);
    expect((await list({ keyword: "%", count_only: true })).total_count).toBe(0);
    await tableIsIntact();
  });

  it("compares hostile text against numbers without a cast error", async () => {
    expect((await filtered({ k: "data.note", v: 1, o: "gt" })).total_count).toBe(0);
    expect((await filtered({ k: "data.cpu_cores", v: 1, o: "gt" }, { k: "provider", v: "aws" })).total_count).toBe(0);
    expect((await filtered({ k: "data.note", v: "2024-01-01", o: "datetime_gt" })).total_count).toBe(0);
    expect((await filtered({ k: "data.cpu_cores", v: "now", o: "timediff_lt" })).total_count).toBe(0);
    await tableIsIntact();
  });

  it("treats a hostile object value as JSON data", async () => {
    const value = { "'; DROP TABLE x; --": "/* */", nested: ["--", null, true, 1.5] };
    expect((await filtered({ k: "data", v: value })).total_count).toBe(0);
    expect((await filtered({ k: "data.note", v: [hostileNote, value], o: "in" })).total_count).toBe(1);
    await tableIsIntact();
  });
});
