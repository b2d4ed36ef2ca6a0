import { createTestSchema, type TestSchema } from "@cloudforet/testing";
import { sql } from "drizzle-orm";
import { jsonb, pgSchema, text } from "drizzle-orm/pg-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileQuery } from "./compile-query";
import { col, defineQueryFields, json } from "./field-map";
import { listWith } from "./list-with";

// What keeps List cheap on large tables: the capped count, the single statement, and the JSON
// containment pre-filter that lets a GIN index find eq/in matches without changing results.

let test: TestSchema;
const rowCount = 300;

const itemTable = (schema: string) =>
  pgSchema(schema).table("item", {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    data: jsonb("data").$type<Record<string, unknown>>().notNull(),
    tags: jsonb("tags").$type<Record<string, string>>().notNull(),
  });
let table: ReturnType<typeof itemTable>;
let fields: ReturnType<typeof defineQueryFields>;

beforeAll(async () => {
  test = await createTestSchema("query_scale");
  await test.sql.unsafe(`CREATE TABLE "${test.schema}".item (id text PRIMARY KEY, name text NOT NULL, data jsonb NOT NULL, tags jsonb NOT NULL)`);
  table = itemTable(test.schema);
  fields = defineQueryFields(
    { id: col(table.id), name: col(table.name), data: json(table.data), tags: json(table.tags) },
    { defaultSort: [{ key: "id" }] },
  );
  const rows = Array.from({ length: rowCount }, (_, i) => ({
    id: `item-${String(i).padStart(4, "0")}`,
    name: `n-${i % 7}`,
    data: { cluster: `c-${i % 3}`, size: i % 4, on: i % 2 === 0, nested: { zone: `z-${i % 5}` }, list: [i % 3, "x"] },
    tags: { env: i % 2 === 0 ? "prod" : "dev" },
  }));
  // Values whose text reads like a string value: 5 and "5", true and "true" (type-strict: no match).
  rows.push({ id: "odd-number", name: "odd", data: { cluster: 5, size: 0, on: true, nested: { zone: "z" }, list: [] } as never, tags: { env: "x" } });
  rows.push({ id: "odd-bool", name: "odd", data: { cluster: true, size: 0, on: true, nested: { zone: "z" }, list: [] } as never, tags: { env: "x" } });
  rows.push({ id: "odd-array", name: "odd", data: { cluster: ["c-1"], size: 0, on: true, nested: [{ zone: "z-1" }], list: ["5"] } as never, tags: { env: "x" } });
  await test.db.insert(table).values(rows);
});

afterAll(async () => {
  await test?.drop();
});

describe("total_count at scale", () => {
  it("is exact up to the cap and a lower bound (cap + 1) beyond it, flagged inexact", async () => {
    const exact = await listWith(test.db, table, fields, { filter: [{ k: "tags.env", v: "prod" }], page: { limit: 10 } }, undefined, { countCap: 150 });
    expect(exact).toMatchObject({ total_count: 150, total_count_exact: true });
    const capped = await listWith(test.db, table, fields, { page: { limit: 10 } }, undefined, { countCap: 100 });
    expect(capped.results).toHaveLength(10);
    expect(capped).toMatchObject({ total_count: 101, total_count_exact: false });
  });

  it("counts at least to the end of the requested page, so a next page is always announced truthfully", async () => {
    const deep = await listWith(test.db, table, fields, { page: { start: 200, limit: 50 } }, undefined, { countCap: 100 });
    expect(deep.results).toHaveLength(50);
    expect(deep).toMatchObject({ total_count: 251, total_count_exact: false });
    const last = await listWith(test.db, table, fields, { page: { start: 290, limit: 50 } }, undefined, { countCap: 100 });
    expect(last).toMatchObject({ total_count: rowCount + 3, total_count_exact: true });
  });

  it("answers a page past the end with the count, and count_only exactly whatever the cap", async () => {
    const past = await listWith(test.db, table, fields, { page: { start: 5000, limit: 10 } }, undefined, { countCap: 100 });
    expect(past).toEqual({ results: [], total_count: rowCount + 3, total_count_exact: true });
    const counted = await listWith(test.db, table, fields, { count_only: true }, undefined, { countCap: 10 });
    expect(counted).toEqual({ results: [], total_count: rowCount + 3, total_count_exact: true });
  });

  it("reads the page and the count in one statement", async () => {
    const statements: string[] = [];
    const logged = await import("drizzle-orm/postgres-js").then(({ drizzle }) =>
      drizzle(test.sql, { logger: { logQuery: (query) => statements.push(query) } }),
    );
    const page = await listWith(logged, table, fields, { filter: [{ k: "data.cluster", v: "c-1" }], page: { limit: 5 } });
    expect(page).toMatchObject({ total_count: 100, total_count_exact: true });
    expect(statements).toHaveLength(1);
  });
});

describe("eq and in on JSON paths: the containment pre-filter keeps results exact", () => {
  const ids = async (filter: { k: string; v: unknown; o?: string }) =>
    (await listWith(test.db, table, fields, { filter: [filter as never], page: { limit: 1000 } })).results.map((row) => row.id).sort();
  const naive = async (where: string) =>
    (await test.sql.unsafe(`SELECT id FROM "${test.schema}".item WHERE ${where} ORDER BY id`)).map((row) => row.id as string);

  it("matches what the plain text, number and boolean comparisons match", async () => {
    expect(await ids({ k: "data.cluster", v: "c-1" })).toEqual(await naive(`data->>'cluster' = 'c-1'`));
    expect(await ids({ k: "data.cluster", v: "5" })).toEqual([]);
    expect(await ids({ k: "data.cluster", v: 5 })).toEqual(["odd-number"]);
    expect(await ids({ k: "data.cluster", v: "true" })).toEqual([]);
    expect(await ids({ k: "data.cluster", v: true })).toEqual(["odd-bool"]);
    expect(await ids({ k: "data.size", v: 3 })).toEqual(await naive(`data->'size' = '3'::jsonb`));
    expect(await ids({ k: "data.on", v: false })).toEqual(await naive(`data->'on' = 'false'::jsonb`));
    expect(await ids({ k: "data.nested.zone", v: "z-1" })).toEqual(await naive(`data#>>'{nested,zone}' = 'z-1'`));
    expect(await ids({ k: "data.cluster", v: ["c-1"] })).toEqual(["odd-array"]);
    expect(await ids({ k: "data.list.1", v: "x" })).toHaveLength(rowCount);
  });

  it("keeps in, not and not_in exact, nulls included", async () => {
    expect(await ids({ k: "data.cluster", v: ["c-0", "5", 5], o: "in" })).toEqual(await naive(`data->'cluster' in ('"c-0"', '5')`));
    expect(await ids({ k: "data.missing", v: [null, "a"], o: "in" })).toHaveLength(rowCount + 3);
    expect(await ids({ k: "data.cluster", v: [null, "c-1"], o: "in" })).toEqual(await naive(`data->>'cluster' = 'c-1'`));
    expect(await ids({ k: "data.cluster", v: "c-1", o: "not" })).toEqual(await naive(`data->>'cluster' is distinct from 'c-1'`));
    expect(await ids({ k: "tags.env", v: ["prod", "dev"], o: "not_in" })).toEqual(["odd-array", "odd-bool", "odd-number"]);
    const many = Array.from({ length: 20 }, (_, i) => `c-${i}`);
    expect(await ids({ k: "data.cluster", v: many, o: "in" })).toEqual(await naive(`data->>'cluster' like 'c-%'`));
  });

  it("lets a GIN (jsonb_path_ops) index serve eq and in on a JSON path, with containment alone for scalars", async () => {
    await test.sql.unsafe(`CREATE INDEX item_data_gin ON "${test.schema}".item USING gin (data jsonb_path_ops)`);
    await test.sql.unsafe(`ANALYZE "${test.schema}".item`);
    const filters = [
      { k: "data.nested.zone", v: "z-3" },
      { k: "data.cluster", v: "5" },
      { k: "data.on", v: true },
      { k: "data.cluster", v: ["c-1", "c-2", 5], o: "in" },
    ];
    for (const filter of filters) {
      const compiled = compileQuery(fields, { filter: [filter as never] });
      const plan = await test.db.transaction(async (tx) => {
        await tx.execute(sql`SET LOCAL enable_seqscan = off`);
        return tx.execute(sql`EXPLAIN SELECT id FROM ${table} WHERE ${compiled.where}`);
      });
      expect(JSON.stringify(plan)).toContain("item_data_gin");
      // Type-strict eq/in on a scalar is exactly containment: no comparison is left to recheck.
      expect(JSON.stringify(plan)).not.toContain("jsonb_typeof");
    }
  });
});
