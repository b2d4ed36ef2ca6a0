import { boolean, integer, jsonb, numeric, pgSchema, text, timestamp, uuid } from "drizzle-orm/pg-core";
import type { TestSchema } from "@cloudforet/testing";
import { col, defineQueryFields, json } from "../field-map";

/** A table with one column of every kind, for the operator tests. */
export function assetTable(schema: string) {
  const s = pgSchema(schema);
  const status = s.enum("asset_status", ["running", "stopped"]);
  return s.table("asset", {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    size: integer("size"),
    price: numeric("price"),
    active: boolean("active"),
    ref: uuid("ref"),
    seenAt: timestamp("seen_at", { withTimezone: true }),
    status: status("status").notNull(),
    meta: jsonb("meta").$type<Record<string, unknown>>().notNull(),
  });
}

export type AssetTable = ReturnType<typeof assetTable>;

export function assetFields(table: AssetTable) {
  return defineQueryFields(
    {
      id: col(table.id),
      name: col(table.name),
      size: col(table.size),
      price: col(table.price),
      active: col(table.active),
      ref: col(table.ref),
      seen_at: col(table.seenAt),
      status: col(table.status),
      meta: json(table.meta),
    },
    { keywordFields: ["name", "meta.env"], defaultSort: { key: "id" } },
  );
}

/** The instant the tests' timediff values are measured from: Friday 2024-03-01 12:00 UTC. */
export const pinnedNow = new Date("2024-03-01T12:00:00Z");

export const uuids = {
  a1: "11111111-1111-4111-8111-111111111111",
  a2: "22222222-2222-4222-8222-222222222222",
  a4: "44444444-4444-4444-8444-444444444444",
};

export const assetRows: AssetTable["$inferInsert"][] = [
  {
    id: "a1",
    name: "Alpha Web",
    size: 10,
    price: "1.50",
    active: true,
    ref: uuids.a1,
    seenAt: new Date("2024-01-10T00:00:00Z"),
    status: "running",
    meta: { env: "prod", cpu: 4, tags: ["web", "blue"], nested: { deep: { x: 1 } }, flag: true, born: "2024-01-10T00:00:00Z" },
  },
  {
    id: "a2",
    name: "beta_db",
    size: 20,
    price: "2.25",
    active: false,
    ref: uuids.a2,
    seenAt: new Date("2024-01-20T00:00:00Z"),
    status: "stopped",
    meta: { env: "dev", cpu: 8, tags: ["db"], flag: false, born: "2024-02-30", note: "100% sure" },
  },
  {
    id: "a3",
    name: "Gamma 50%",
    size: null,
    price: null,
    active: null,
    ref: null,
    seenAt: null,
    status: "running",
    meta: { env: "prod", cpu: "eight", tags: "web", born: "not a date" },
  },
  {
    id: "a4",
    name: "delta",
    size: 40,
    price: "10",
    active: true,
    ref: uuids.a4,
    seenAt: new Date("2024-03-01T11:30:00Z"),
    status: "stopped",
    meta: {},
  },
  {
    id: "a5",
    name: "O'Brien; DROP TABLE asset; --",
    size: 5,
    price: "0.5",
    active: false,
    ref: null,
    seenAt: new Date("2024-02-27T08:00:00+09:00"),
    status: "running",
    meta: { env: "prod'--", cpu: 2.5, born: "2024-02-28 10:00" },
  },
];

export async function createAssets(test: TestSchema): Promise<AssetTable> {
  await test.sql.unsafe(`CREATE TYPE "${test.schema}".asset_status AS ENUM ('running', 'stopped');
    CREATE TABLE "${test.schema}".asset (
      id text PRIMARY KEY,
      name text NOT NULL,
      size integer,
      price numeric,
      active boolean,
      ref uuid,
      seen_at timestamptz,
      status "${test.schema}".asset_status NOT NULL,
      meta jsonb NOT NULL DEFAULT '{}'
    )`);
  const table = assetTable(test.schema);
  await test.db.insert(table).values(assetRows);
  return table;
}
