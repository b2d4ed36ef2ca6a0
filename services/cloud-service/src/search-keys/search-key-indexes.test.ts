import { fileURLToPath } from "node:url";
import type { JsonValue } from "@bufbuild/protobuf";
import { migrate, openDatabase, queryRows, type DatabaseHandle } from "@cloudforet/db";
import { compileQuery, compileStat } from "@cloudforet/query";
import { createLogger } from "@cloudforet/runtime";
import { createTestDatabase, type TestDatabase } from "@cloudforet/testing";
import { and, eq, sql, type SQL } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cloudServiceFields } from "../cloud-services/repository";
import { cloudServices } from "../db/schema";
import { SEARCH_KEY_LIMITS, declaredSearchKeys, searchKeyIndexName } from "./declared-keys";
import { SearchKeyIndexer } from "./search-key-indexer";

const logger = createLogger("cloud-service-test", "silent");
let database: TestDatabase;
let handle: DatabaseHandle;

beforeAll(async () => {
  database = await createTestDatabase("cs_search_keys");
  handle = await openDatabase({ url: database.url, schema: "cloud_service", logger });
  await migrate(handle, { migrationsFolder: fileURLToPath(new URL("../../drizzle", import.meta.url)), schema: "cloud_service", logger });
  await handle.db.execute(sql`
    INSERT INTO cloud_service.cloud_services (cloud_service_id, domain_id, name, cloud_service_type, provider, state, data, tags)
    SELECT 'cs-' || i, CASE WHEN i % 10 = 0 THEN 'domain-b' ELSE 'domain-a' END, 'vm-' || i, 'compute.Instance', 'nutanix', 'ON',
           jsonb_build_object('cluster', 'cluster-' || (i % 50), 'placement', jsonb_build_object('zone', 'z-' || (i % 7))), '{}'::jsonb
    FROM generate_series(1, 5000) AS i`);
  await handle.db.execute(sql`ANALYZE cloud_service.cloud_services`);
});

afterAll(async () => {
  await handle?.close();
  await database?.drop();
});

const indexes = () =>
  queryRows<{ name: string; valid: boolean; definition: string }>(
    handle.db,
    sql`SELECT c.relname AS name, i.indisvalid AS valid, pg_get_indexdef(c.oid) AS definition FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid = 'cloud_service.cloud_services'::regclass AND c.relname LIKE 'cs\\_key\\_%'`,
  );

/**
 * The plan of a statement, with sequential scans (and hashing, for groups) priced out so a small
 * table still shows what an index can serve.
 */
async function planOf(statement: SQL): Promise<string> {
  return handle.db.transaction(async (tx) => {
    await tx.execute(sql`SET LOCAL enable_seqscan = off`);
    await tx.execute(sql`SET LOCAL enable_bitmapscan = off`);
    await tx.execute(sql`SET LOCAL enable_hashagg = off`);
    const rows = await queryRows<{ "QUERY PLAN": string }>(tx, sql`EXPLAIN ${statement}`);
    return rows.map((row) => row["QUERY PLAN"]).join("\n");
  });
}

describe("declared search keys", () => {
  it("reads CloudForet's metadata.view.search, keeping indexable data.*/tags.* keys, at most perType", () => {
    const search: JsonValue[] = [{ key: "data.cluster", name: "Cluster" }, "tags.owner", { key: "name" }, { key: "data.disks.0" }, { key: "data.cluster" }, { key: "data.a;drop" }];
    expect(declaredSearchKeys({ view: { search } })).toEqual(["data.cluster", "tags.owner"]);
    const many = Array.from({ length: 20 }, (_, i) => ({ key: `data.k${i}` }));
    expect(declaredSearchKeys({ view: { search: many } })).toHaveLength(SEARCH_KEY_LIMITS.perType);
    expect(declaredSearchKeys({})).toEqual([]);
  });

  it("names each key's index deterministically within Postgres' 63 bytes", () => {
    expect(searchKeyIndexName("data.cluster")).toBe(searchKeyIndexName("data.cluster"));
    expect(searchKeyIndexName("data.cluster")).not.toBe(searchKeyIndexName("data.Cluster"));
    expect(searchKeyIndexName(`data.${"x".repeat(60)}.${"y".repeat(60)}`).length).toBeLessThanOrEqual(63);
  });

  it("builds a valid index per declared key, once, and the compiler's sort and group by on the key walk it", async () => {
    const indexer = new SearchKeyIndexer(handle.db, logger);
    await indexer.declare(["data.cluster", "data.placement.zone"]);
    await indexer.declare(["data.cluster"]);
    const built = await indexes();
    expect(built.map((index) => index.name).sort()).toEqual([searchKeyIndexName("data.cluster"), searchKeyIndexName("data.placement.zone")].sort());
    expect(built.every((index) => index.valid)).toBe(true);
    expect(built.find((index) => index.name === searchKeyIndexName("data.placement.zone"))?.definition).toContain("NULLIF(((data -> 'placement'::text) -> 'zone'::text), 'null'::jsonb)");

    const domain = eq(cloudServices.domainId, "domain-a");
    const list = compileQuery(cloudServiceFields, { sort: { key: "data.placement.zone" }, page: { limit: 10 } });
    const listPlan = await planOf(
      sql`SELECT ${cloudServices.cloudServiceId} FROM ${cloudServices} WHERE ${and(list.where, domain)} ORDER BY ${sql.join(list.orderBy, sql`, `)} LIMIT 10`,
    );
    expect(listPlan).toContain(searchKeyIndexName("data.placement.zone"));

    const stat = compileStat(cloudServiceFields, { aggregate: [{ group: { keys: ["data.cluster"] }, statistics: { count: {} } }] });
    const selection = sql.join(Object.values(stat.selection), sql`, `);
    const statPlan = await planOf(sql`SELECT ${selection} FROM ${cloudServices} WHERE ${domain} GROUP BY ${sql.join(stat.groupBy, sql`, `)}`);
    expect(statPlan).toContain(searchKeyIndexName("data.cluster"));
    expect(statPlan).toContain("GroupAggregate");
    expect(statPlan).not.toContain("Sort");
  });

  it("rebuilds an index an interrupted build left INVALID", async () => {
    const name = searchKeyIndexName("data.cluster");
    await handle.db.execute(sql`UPDATE pg_index SET indisvalid = false WHERE indexrelid = ${`cloud_service.${name}`}::regclass`);
    expect((await indexes()).find((index) => index.name === name)?.valid).toBe(false);
    await new SearchKeyIndexer(handle.db, logger).declare(["data.cluster"]);
    expect((await indexes()).find((index) => index.name === name)?.valid).toBe(true);
  });
});
