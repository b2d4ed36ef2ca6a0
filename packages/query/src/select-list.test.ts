import { eq, sql } from "drizzle-orm";
import { bigint, boolean, jsonb, numeric, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestSchema, type TestSchema } from "@cloudforet/testing";
import { tableReader } from "./select-list";

/** Unqualified: it lives in the test's own schema (its connection's search_path). */
const things = pgTable("things", {
  thingId: text("thing_id").primaryKey(),
  createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull(),
  seenAt: timestamp("seen_at", { withTimezone: true, mode: "string" }),
  count: bigint("count", { mode: "number" }).notNull(),
  price: numeric("price"),
  active: boolean("active").notNull(),
  data: jsonb("data").$type<Record<string, unknown>>().notNull(),
  note: text("note"),
});

describe("tableReader", () => {
  let test: TestSchema;
  const rowsOf = async (query: ReturnType<typeof sql>) => Array.from((await test.db.execute(query)) as unknown as Record<string, unknown>[]);
  beforeAll(async () => {
    test = await createTestSchema("select_list");
    await test.db.execute(sql`create table things (thing_id text primary key, created_at timestamptz not null, seen_at timestamptz,
      count bigint not null, price numeric, active boolean not null, data jsonb not null, note text)`);
    await test.db.insert(things).values([
      { thingId: "a", createdAt: new Date("2026-01-02T03:04:05.678Z"), seenAt: "2026-02-03 04:05:06+00", count: 42, price: "12.50", active: true, data: { n: 1, s: ["x"] }, note: "hi" },
      { thingId: "b", createdAt: new Date("2026-01-01T00:00:00Z"), seenAt: null, count: 0, price: null, active: false, data: {}, note: null },
    ]);
  });
  afterAll(async () => {
    await test?.drop();
  });

  it("reads every column as Drizzle's select().from(table) does, nulls included", async () => {
    const reader = tableReader(things);
    for (const id of ["a", "b"]) {
      const [raw] = await rowsOf(sql`select ${reader.text} from ${things} where ${eq(things.thingId, id)}`);
      const [expected] = await test.db.select().from(things).where(eq(things.thingId, id));
      expect(reader.decode(raw)).toEqual(expected);
    }
    const [a] = await rowsOf(sql`select ${reader.text} from ${things} where ${eq(things.thingId, "a")}`);
    expect(reader.decode(a).createdAt).toBeInstanceOf(Date);
  });
});
