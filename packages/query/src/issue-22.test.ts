import { createTestSchema, type TestSchema } from "@cloudforet/testing";
import { jsonb, pgSchema, text } from "drizzle-orm/pg-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { col, defineQueryFields, json, type QueryFields } from "./field-map";
import { listWith } from "./list-with";
import { statWith } from "./stat-with";

// The repros of issue 22 (the query side; the cost one is in services/cost), on data shaped like
// the differential test that found them: numbers and booleans where a string value is compared,
// and a key that is sometimes missing and sometimes JSON null.

const resourceTable = (schema: string) =>
  pgSchema(schema).table("resource", {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    data: jsonb("data").$type<Record<string, unknown>>().notNull(),
  });

let test: TestSchema;
let table: ReturnType<typeof resourceTable>;
let fields: QueryFields;

beforeAll(async () => {
  test = await createTestSchema("query_issue22");
  await test.sql.unsafe(`CREATE TABLE "${test.schema}".resource (id text PRIMARY KEY, name text NOT NULL, data jsonb NOT NULL)`);
  table = resourceTable(test.schema);
  fields = defineQueryFields({ id: col(table.id), name: col(table.name), data: json(table.data) }, { defaultSort: [{ key: "name" }] });
  const rows = Array.from({ length: 60 }, (_, i) => {
    const data: Record<string, unknown> = { cpu_cores: [8, 64, 40, 2][i % 4], enabled: i % 2 === 0 };
    // cluster: missing for i%5==0, JSON null for i%5==1, else one of three names.
    if (i % 5 === 1) data.cluster = null;
    else if (i % 5 !== 0) data.cluster = `c-${i % 3}`;
    if (i === 7) data.cpu_cores = "8";
    return { id: `r-${String(i).padStart(2, "0")}`, name: `vm-${i % 6}`, data };
  });
  await test.db.insert(table).values(rows);
});

afterAll(async () => {
  await test?.drop();
});

const count = async (filter: { k: string; v: unknown; o: string }[]) =>
  (await listWith(test.db, table, fields, { filter: filter as never, count_only: true })).total_count;

describe("issue 22: the query language says what it means", () => {
  it("1. a string value on a JSON path matches only JSON strings", async () => {
    expect(await count([{ k: "data.cpu_cores", v: "8", o: "eq" }])).toBe(1); // only the string "8"
    expect(await count([{ k: "data.cpu_cores", v: 8, o: "eq" }])).toBe(15);
    expect(await count([{ k: "data.enabled", v: "true", o: "eq" }])).toBe(0);
    expect(await count([{ k: "data.enabled", v: true, o: "eq" }])).toBe(30);
    // Text order would put "64" below "5"; strings only compare with strings.
    expect(await count([{ k: "data.cpu_cores", v: "5", o: "lt" }, { k: "data.cpu_cores", v: 40, o: "gt" }])).toBe(0);
    expect(await count([{ k: "data.cpu_cores", v: ["8", "true"], o: "in" }])).toBe(1);
    expect(await count([{ k: "data.cpu_cores", v: ["0", "9"], o: "between" }])).toBe(1);
    // The complements are exact: every row the positive operator does not match, other types included.
    expect(await count([{ k: "data.cpu_cores", v: "8", o: "not" }])).toBe(59);
    expect(await count([{ k: "data.enabled", v: ["true"], o: "not_in" }])).toBe(60);
  });

  it("2. Stat puts a missing key and JSON null in one group, printed as null, sorted last either way", async () => {
    const groups = async (desc?: boolean) =>
      (
        await statWith(test.db, table, fields, {
          aggregate: [{ group: { keys: ["data.cluster"] }, statistics: { count: {} } }],
          ...(desc === undefined ? {} : { sort: { key: "cluster", desc } }),
        })
      ).results;
    const unsorted = await groups();
    expect(unsorted.filter((group) => group.cluster === null)).toEqual([{ cluster: null, count: 24 }]);
    expect(unsorted).toHaveLength(4);
    expect((await groups(false)).map((group) => group.cluster)).toEqual(["c-0", "c-1", "c-2", null]);
    expect((await groups(true)).map((group) => group.cluster)).toEqual(["c-2", "c-1", "c-0", null]);
    // List sorts them together too: missing and null last in both directions.
    for (const desc of [false, true]) {
      const { results } = await listWith(test.db, table, fields, { sort: { key: "data.cluster", desc }, page: { start: 36, limit: 24 }, only: ["data.cluster"] });
      expect(results.every((row) => (row.data as Record<string, unknown> | undefined)?.cluster == null)).toBe(true);
    }
  });

  it("3. paging over groups tied on the sort key is stable: the group keys break ties", async () => {
    // Six (name, enabled) groups of ten rows each, all tied on count, read two at a time.
    const page = async (start: number) =>
      (
        await statWith(test.db, table, fields, {
          aggregate: [{ group: { keys: ["name", "data.enabled"] }, statistics: { count: {} } }],
          sort: { key: "count", desc: true },
          page: { start, limit: 2 },
        })
      ).results;
    const pages = [...(await page(0)), ...(await page(2)), ...(await page(4))];
    expect(pages).toHaveLength(6);
    expect(new Set(pages.map((group) => `${group.name}/${group.enabled}`)).size).toBe(6);
    expect(pages.slice(0, 3)).toEqual([
      { name: "vm-0", enabled: true, count: 10 },
      { name: "vm-1", enabled: false, count: 10 },
      { name: "vm-2", enabled: true, count: 10 },
    ]);
    expect([...(await page(0)), ...(await page(2)), ...(await page(4))]).toEqual(pages);
  });

  it("3. List has a unique tie-breaker even when the default sort does not end in one", async () => {
    expect(fields.defaultSort).toEqual([
      { key: "name", desc: false },
      { key: "id", desc: false },
    ]);
    const ids: string[] = [];
    for (let start = 0; start < 60; start += 7) {
      const { results } = await listWith(test.db, table, fields, { sort: { key: "data.enabled" }, page: { start, limit: 7 }, only: ["id"] });
      ids.push(...results.map((row) => row.id as string));
    }
    expect(new Set(ids).size).toBe(60);
  });
});
