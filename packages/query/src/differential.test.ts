import { createTestSchema, type TestSchema } from "@cloudforet/testing";
import { jsonb, pgSchema, text } from "drizzle-orm/pg-core";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { col, defineQueryFields, json, type QueryFields } from "./field-map";
import { listWith } from "./list-with";
import { statWith } from "./stat-with";
import {
  groupName,
  referenceList,
  referenceStat,
  type Json,
  type ReferenceFilter,
  type ReferenceRow,
  type ReferenceSort,
  type ReferenceStatistic,
} from "./test-support/reference-query";

// Issue 22: List and Stat answers over mixed-type data, compared with a small in-memory evaluator
// of the README's comparison, null and ordering rules (test-support/reference-query.ts). A future
// divergence between the compiler and those rules fails here, with fast-check's smallest example.

const listRuns = Number(process.env.QUERY_DIFFERENTIAL_RUNS ?? 400);
const statRuns = Math.ceil(listRuns / 2);

const itemTable = (schema: string) =>
  pgSchema(schema).table("item", {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    label: text("label"),
    data: jsonb("data").$type<Record<string, Json>>().notNull(),
  });

let test: TestSchema;
let table: ReturnType<typeof itemTable>;
let fields: QueryFields;

/** Strings that read like other JSON values, and strings whose text order differs from numeric order. */
const strings = ["5", "8", "64", "10", "9", "true", "false", "null", "a", "B", "b", "", "é", "cluster-1"];
const numbers = [5, 8, 64, 10, 9, -1, 0, 0.5, 40, 1e3];
const scalars: Json[] = [...strings, ...numbers, true, false];
/** What a data key may hold; `undefined` leaves the key out. */
const stored = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom<Json | undefined>(...scalars) },
  { weight: 2, arbitrary: fc.constantFrom<Json | undefined>(null, undefined) },
);

const rowsArbitrary = fc.array(
  fc.record({
    name: fc.constantFrom("alpha", "beta", "Beta", "gamma", "", "é"),
    label: fc.constantFrom(null, "x", "y", "X", "5", ""),
    a: stored,
    b: stored,
    n: fc.oneof(fc.constantFrom<Json | undefined>(1, 2, 3.5, -4, 10, "7", null, undefined, true)),
    c: fc.constantFrom<Json | undefined>("a", ["a"], { x: "a" }, 5, undefined),
  }),
  { minLength: 150, maxLength: 150 },
);

const rows: ReferenceRow[] = fc.sample(rowsArbitrary, { seed: 22, numRuns: 1 })[0].map((row, index) => {
  const data: Record<string, Json> = {};
  for (const key of ["a", "b", "n", "c"] as const) if (row[key] !== undefined) data[key] = row[key] as Json;
  return { id: `item-${String(index).padStart(3, "0")}`, name: row.name, label: row.label, data };
});

beforeAll(async () => {
  test = await createTestSchema("query_diff");
  await test.sql.unsafe(`CREATE TABLE "${test.schema}".item (id text PRIMARY KEY, name text NOT NULL, label text, data jsonb NOT NULL)`);
  table = itemTable(test.schema);
  // The default sort is deliberately not unique: the map appends the primary key as tie-breaker.
  fields = defineQueryFields(
    { id: col(table.id), name: col(table.name), label: col(table.label), data: json(table.data) },
    { defaultSort: [{ key: "name" }] },
  );
  await test.db.insert(table).values(rows);
});

afterAll(async () => {
  await test?.drop();
});

const jsonKeys = ["data.a", "data.b", "data.n", "data.c", "data.missing"];
const columnKeys = ["label", "name"];
const orderedValue = fc.oneof(fc.constantFrom(...strings), fc.constantFrom(...numbers));

/** A filter whose value suits its operator; column keys get strings (or null), as their type needs. */
const filterArbitrary: fc.Arbitrary<ReferenceFilter> = fc.oneof(
  fc.record({
    k: fc.constantFrom(...jsonKeys),
    o: fc.constantFrom("eq" as const, "not" as const),
    v: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...scalars) }, { weight: 1, arbitrary: fc.constant(null) }),
  }),
  fc.record({
    k: fc.constantFrom(...jsonKeys),
    o: fc.constantFrom("in" as const, "not_in" as const),
    v: fc.array(fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...scalars) }, { weight: 1, arbitrary: fc.constant(null) }), { maxLength: 4 }),
  }),
  fc.record({ k: fc.constantFrom(...jsonKeys), o: fc.constantFrom("lt" as const, "lte" as const, "gt" as const, "gte" as const), v: orderedValue }),
  fc.record({
    k: fc.constantFrom(...jsonKeys),
    o: fc.constant("between" as const),
    v: fc.oneof(fc.tuple(fc.constantFrom(...strings), fc.constantFrom(...strings)), fc.tuple(fc.constantFrom(...numbers), fc.constantFrom(...numbers))),
  }),
  fc.record({ k: fc.constantFrom(...jsonKeys, ...columnKeys), o: fc.constant("exists" as const), v: fc.boolean() }),
  fc.record({
    k: fc.constantFrom(...columnKeys),
    o: fc.constantFrom("eq" as const, "not" as const),
    v: fc.constantFrom<Json>(null, "x", "y", "X", "5", "", "alpha", "Beta"),
  }),
  fc.record({ k: fc.constantFrom(...columnKeys), o: fc.constantFrom("lt" as const, "gte" as const), v: fc.constantFrom("x", "X", "beta", "") }),
  fc.record({ k: fc.constantFrom(...columnKeys), o: fc.constantFrom("in" as const, "not_in" as const), v: fc.array(fc.constantFrom<Json>(null, "x", "y", "Beta"), { maxLength: 3 }) }),
);

const sortArbitrary = fc.array(
  fc.record({ key: fc.constantFrom("data.a", "data.b", "data.n", "label", "name", "id"), desc: fc.boolean() }),
  { maxLength: 2 },
);

const listQuery = fc.record({
  filter: fc.array(filterArbitrary, { maxLength: 3 }),
  filterOr: fc.oneof({ weight: 3, arbitrary: fc.constant([] as ReferenceFilter[]) }, { weight: 1, arbitrary: fc.array(filterArbitrary, { minLength: 1, maxLength: 2 }) }),
  sort: sortArbitrary,
  start: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 160 })),
  limit: fc.integer({ min: 1, max: 40 }),
});

const statistics: ReferenceStatistic[] = [
  { name: "count", operator: "count" },
  { name: "total_n", operator: "sum", key: "data.n" },
  { name: "min_a", operator: "min", key: "data.a" },
  { name: "max_b", operator: "max", key: "data.b" },
];

const statQuery = fc
  .record({
    filter: fc.array(filterArbitrary, { maxLength: 2 }),
    keys: fc.uniqueArray(fc.constantFrom("data.a", "data.b", "data.n", "label"), { maxLength: 2 }),
    statistics: fc.subarray(statistics, { minLength: 1 }),
    start: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 30 })),
    limit: fc.integer({ min: 1, max: 20 }),
    sortPick: fc.array(fc.record({ index: fc.nat(), desc: fc.boolean() }), { maxLength: 2 }),
  })
  .map(({ sortPick, ...query }) => {
    // Sort by a group key or a statistic name, as Stat allows.
    const sortable = [...query.keys, ...query.statistics.map((stat) => stat.name)];
    const sort: ReferenceSort[] = sortPick.map(({ index, desc }) => ({ key: sortable[index % sortable.length], desc }));
    return { ...query, sort };
  });

const asFilterJson = (filter: ReferenceFilter) => ({ k: filter.k, v: filter.v, o: filter.o });

describe("List and Stat agree with an in-memory evaluator of the README's rules", () => {
  it(`List: ${listRuns} generated queries`, async () => {
    let nonEmpty = 0;
    await fc.assert(
      fc.asyncProperty(listQuery, async (query) => {
        const expected = referenceList(rows, query);
        const answer = await listWith(test.db, table, fields, {
          filter: query.filter.map(asFilterJson),
          filter_or: query.filterOr.map(asFilterJson),
          sort: query.sort,
          page: { start: query.start, limit: query.limit },
          only: ["id"],
        } as never);
        if (expected.ids.length > 0) nonEmpty++;
        expect({ ids: answer.results.map((row) => row.id), total_count: answer.total_count }).toEqual(expected);
      }),
      { numRuns: listRuns, seed: Number(process.env.QUERY_DIFFERENTIAL_SEED ?? Date.now() % 1_000_000) },
    );
    // Worth something only if plenty of queries had answers to compare.
    expect(nonEmpty).toBeGreaterThan(listRuns / 4);
  }, 120_000);

  it(`Stat: ${statRuns} generated queries`, async () => {
    await fc.assert(
      fc.asyncProperty(statQuery, async (query) => {
        const expected = referenceStat(rows, query);
        const answer = await statWith(test.db, table, fields, {
          filter: query.filter.map(asFilterJson),
          aggregate: [
            {
              group: { keys: query.keys },
              statistics: Object.fromEntries(query.statistics.map((stat) => [stat.name, { key: stat.key, operator: stat.operator }])),
            },
          ],
          sort: query.sort,
          page: { start: query.start, limit: query.limit },
        } as never);
        expect(answer.results).toEqual(expected);
      }),
      { numRuns: statRuns, seed: Number(process.env.QUERY_DIFFERENTIAL_SEED ?? Date.now() % 1_000_000) },
    );
  }, 120_000);

  it("the generated data holds the mixed types the rules are about", () => {
    const a = rows.map((row) => row.data.a);
    expect(a.some((value) => typeof value === "number")).toBe(true);
    expect(a.some((value) => typeof value === "string" && /^\d+$/.test(value))).toBe(true);
    expect(a.some((value) => typeof value === "boolean")).toBe(true);
    expect(a.some((value) => value === null)).toBe(true);
    expect(a.some((value) => value === undefined)).toBe(true);
    expect(groupName("data.a")).toBe("a");
  });
});
