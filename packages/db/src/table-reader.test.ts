import { eq, sql } from "drizzle-orm";
import { bigint, boolean, jsonb, numeric, pgSchema, text, timestamp } from "drizzle-orm/pg-core";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabaseUrl } from "@cloudforet/testing";
import { openDatabase, queryRows, tableReader, type DatabaseHandle } from "./index";

const logger = pino({ level: process.env.LOG_LEVEL ?? "silent" });
const schema = pgSchema("table_reader");
const things = schema.table("things", {
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
  let handle: DatabaseHandle;
  beforeAll(async () => {
    handle = await openDatabase({ url: testDatabaseUrl(), schema: "table_reader", logger, poolSize: 1 });
    await handle.db.execute(sql`create schema if not exists table_reader`);
    await handle.db.execute(sql`create table if not exists table_reader.things (thing_id text primary key, created_at timestamptz not null, seen_at timestamptz,
      count bigint not null, price numeric, active boolean not null, data jsonb not null, note text)`);
    await handle.db.execute(sql`truncate table_reader.things`);
    await handle.db.insert(things).values([
      { thingId: "a", createdAt: new Date("2026-01-02T03:04:05.678Z"), seenAt: "2026-02-03 04:05:06+00", count: 42, price: "12.50", active: true, data: { n: 1, s: ["x"] }, note: "hi" },
      { thingId: "b", createdAt: new Date("2026-01-01T00:00:00Z"), seenAt: null, count: 0, price: null, active: false, data: {}, note: null },
    ]);
  });
  afterAll(async () => {
    await handle?.close();
  });

  it("reads every column as Drizzle's select().from(table) does, nulls included", async () => {
    const reader = tableReader(things);
    for (const id of ["a", "b"]) {
      const [raw] = await queryRows(handle.db, sql`select ${reader.columns} from ${things} where ${eq(things.thingId, id)}`);
      const [expected] = await handle.db.select().from(things).where(eq(things.thingId, id));
      expect(reader.decode(raw)).toEqual(expected);
    }
    const [a] = await queryRows(handle.db, sql`select ${reader.columns} from ${things} where ${eq(things.thingId, "a")}`);
    expect(reader.decode(a).createdAt).toBeInstanceOf(Date);
  });
});
