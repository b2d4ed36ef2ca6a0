// The compact form collected writes store (migration 0004) must read as exactly the keys the
// history's rules name: checked against a plain-JS statement of those rules, over generated
// snapshot pairs, on real Postgres; and a create's compact form against createdDiff, which the
// rule-split path writes.
import { fileURLToPath } from "node:url";
import { migrate, openDatabase, queryRows, type DatabaseHandle } from "@cloudforet/db";
import { createLogger } from "@cloudforet/runtime";
import { createTestDatabase, type TestDatabase } from "@cloudforet/testing";
import { sql } from "drizzle-orm";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createdDiff, type ChangeEntry, type CreatedValues } from "./change-diff";

const logger = createLogger("cloud-service-test", "silent");
let database: TestDatabase;
let handle: DatabaseHandle;

beforeAll(async () => {
  database = await createTestDatabase("cs_change_entries");
  handle = await openDatabase({ url: database.url, schema: "cloud_service", logger });
  await migrate(handle, { migrationsFolder: fileURLToPath(new URL("../../drizzle", import.meta.url)), schema: "cloud_service", logger });
});

afterAll(async () => {
  await handle?.close();
  await database?.drop();
});

type Snapshot = Record<string, unknown>;
const MAPS = new Set(["data", "tags", "reference"]);
const absent = (value: unknown) => value === undefined || value === null || value === "";
const orNull = (value: unknown) => (absent(value) ? null : value);
const asMap = (value: unknown): Record<string, unknown> =>
  value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};

/** The rules, stated plainly: top-level fields and one level into the maps; "" and null are absent. */
function expectedEntries(before: Snapshot, after: Snapshot): ChangeEntry[] {
  const entries: ChangeEntry[] = [];
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const pairs: [string, unknown, unknown][] = MAPS.has(key)
      ? [...new Set([...Object.keys(asMap(before[key])), ...Object.keys(asMap(after[key]))])].map((sub) => [`${key}.${sub}`, asMap(before[key])[sub], asMap(after[key])[sub]])
      : [[key, before[key], after[key]]];
    for (const [name, was, is] of pairs) {
      if (JSON.stringify(orNull(was)) !== JSON.stringify(orNull(is))) entries.push({ key: name, before: orNull(was), after: orNull(is) });
    }
  }
  return entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

// Values that exercise the rules: absent forms, equal-looking values of different types, nesting
// (one key deep, so jsonb's key order and JSON text agree).
const value = fc.constantFrom<unknown>(null, "", "a", "b", "1", 1, 2, true, false, { x: 1 }, { x: 2 }, [1], []);
const map = fc.option(fc.dictionary(fc.constantFrom("k1", "k2", "k_3", "K4", "z"), value, { maxKeys: 4 }), { nil: null });
const text = fc.constantFrom<string | null>(null, "", "vm-1", "vm-2", "ON");
const snapshot = fc.record({
  name: text,
  state: text,
  account: text,
  provider: text,
  cloud_service_type: text,
  cloud_service_group: text,
  project_id: text,
  workspace_id: text,
  data: map,
  tags: map,
  reference: map,
});

describe("change_entries", () => {
  it("reads a compact update as exactly the changed keys, old and new, sorted", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(snapshot, snapshot), { minLength: 1, maxLength: 25 }), async (pairs) => {
        const rows = await queryRows<{ i: number; entries: ChangeEntry[] }>(
          handle.db,
          sql`select (p.i - 1)::int as i, cloud_service.change_entries(jsonb_build_object('before', p.pair -> 0, 'after', p.pair -> 1)) as entries
              from jsonb_array_elements(${JSON.stringify(pairs)}::jsonb) with ordinality as p(pair, i) order by p.i`,
        );
        for (const row of rows) expect(row.entries).toEqual(expectedEntries(pairs[row.i][0], pairs[row.i][1]));
      }),
      { numRuns: 60 },
    );
  });

  it("reads a compact create as the keys createdDiff gives the same row", async () => {
    const created = fc.record({
      name: fc.constantFrom("vm-1", "vm-2"),
      state: fc.constantFrom("ACTIVE", "DISCONNECTED"),
      account: fc.constantFrom("", "sa-1"),
      provider: fc.constant("nutanix"),
      cloudServiceType: fc.constant("compute.Instance"),
      cloudServiceGroup: fc.constantFrom("", "Nutanix"),
      projectId: fc.constantFrom("", "project-1"),
      workspaceId: fc.constantFrom("", "ws-1"),
      data: fc.dictionary(fc.constantFrom("k1", "k2", "z"), value, { maxKeys: 3 }),
      tags: fc.dictionary(fc.constantFrom("env", "owner"), fc.constantFrom("", "prod", "ops"), { maxKeys: 2 }),
      reference: fc.record({ resource_id: fc.constantFrom("", "vm-1"), external_link: fc.constantFrom("", "https://x") }),
    });
    const snapshotOf = (row: CreatedValues) => ({
      name: row.name,
      state: row.state,
      account: row.account,
      provider: row.provider,
      cloud_service_type: row.cloudServiceType,
      cloud_service_group: row.cloudServiceGroup,
      project_id: row.projectId,
      workspace_id: row.workspaceId,
      data: row.data,
      tags: row.tags,
      reference: row.reference,
    });
    await fc.assert(
      fc.asyncProperty(fc.array(created, { minLength: 1, maxLength: 25 }), async (rows) => {
        const read = await queryRows<{ entries: ChangeEntry[] }>(
          handle.db,
          sql`select cloud_service.change_entries(jsonb_build_object('after', s)) as entries
              from jsonb_array_elements(${JSON.stringify(rows.map(snapshotOf))}::jsonb) with ordinality as t(s, i) order by t.i`,
        );
        expect(read.map((r) => r.entries)).toEqual(rows.map((row) => JSON.parse(JSON.stringify(createdDiff(row)))));
      }),
      { numRuns: 40 },
    );
  });

  it("reads the array form that earlier and single writes store as it is", async () => {
    const stored = [{ key: "tags.env", before: null, after: "prod" }];
    const [row] = await queryRows<{ entries: unknown }>(handle.db, sql`select cloud_service.change_entries(${JSON.stringify(stored)}::jsonb) as entries`);
    expect(row.entries).toEqual(stored);
  });
});
