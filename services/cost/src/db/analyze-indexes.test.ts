import { fileURLToPath } from "node:url";
import { migrate, openDatabase, queryRows, type DatabaseHandle } from "@cloudforet/db";
import { createLogger } from "@cloudforet/runtime";
import { createTestDatabase, type TestDatabase } from "@cloudforet/testing";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// Analyze over months of cost rows reads the covering (domain_id, date, …) index alone, and a
// tags.<key> filter (compiled to containment) can use the GIN index on tags.

const logger = createLogger("cost-test", "silent");
let database: TestDatabase;
let handle: DatabaseHandle;

beforeAll(async () => {
  database = await createTestDatabase("cost_indexes");
  handle = await openDatabase({ url: database.url, schema: "cost", logger });
  await migrate(handle, { migrationsFolder: fileURLToPath(new URL("../../drizzle", import.meta.url)), schema: "cost", logger });
  await handle.db.execute(sql`
    INSERT INTO cost.costs (cost_id, domain_id, workspace_id, data_source_id, date, cost, currency, resource_id, resource_type, region, tags, job_id)
    SELECT 'c' || i, 'domain-a', 'ws-' || (i % 3), 'ds-' || (i % 4), to_char(date '2025-01-01' + (i % 180), 'YYYY-MM-DD'), (i % 1000) / 7.0, 'USD',
           'res-' || (i % 500), 'vm', 'region-' || (i % 6), jsonb_build_object('team', 'team-' || (i % 5)), 'job'
    FROM generate_series(1, 20000) AS i`);
  // VACUUM sets the visibility map an index-only scan relies on (autovacuum does it in service).
  await handle.db.execute(sql`VACUUM ANALYZE cost.costs`);
});

afterAll(async () => {
  await handle?.close();
  await database?.drop();
});

const planOf = async (statement: string) =>
  (await queryRows<{ "QUERY PLAN": string }>(handle.db, sql.raw(`EXPLAIN ${statement}`))).map((row) => row["QUERY PLAN"]).join("\n");

describe("cost indexes", () => {
  it("answers a month of Analyze grouped by columns from the covering index alone", async () => {
    const plan = await planOf(`SELECT left(date, 7), data_source_id, region, currency, sum(cost) FROM cost.costs
      WHERE domain_id = 'domain-a' AND workspace_id IN ('ws-0', 'ws-1') AND date BETWEEN '2025-03-01' AND '2025-03-31' GROUP BY 1, 2, 3, 4`);
    expect(plan).toContain("Index Only Scan using costs_domain_date_covering_idx");
  });

  it("finds a tag's rows through the GIN index on tags", async () => {
    const plan = await planOf(`SELECT cost_id FROM cost.costs WHERE domain_id = 'domain-a' AND tags @> '{"team":"team-3"}'::jsonb AND tags @> '{"team":"x"}'::jsonb`);
    expect(plan).toContain("costs_tags_gin_idx");
  });
});
