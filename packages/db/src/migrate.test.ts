import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pino from "pino";
import postgres from "postgres";
import { createTestSchema, testDatabaseUrl, type TestSchema } from "@cloudforet/testing";
import { migrate, migrationLockName, openDatabase, type DatabaseHandle } from "./index";
import { fixtureMigrationsFor, type FixtureMigrations } from "./fixtures/fixture-migrations";

const logger = pino({ level: process.env.LOG_LEVEL ?? "silent" });

describe("migrate on PostgreSQL", () => {
  let test: TestSchema;
  let fixture: FixtureMigrations;
  const handles: DatabaseHandle[] = [];

  const open = async (schema: string) => {
    const handle = await openDatabase({ url: testDatabaseUrl(), schema, logger, poolSize: 2 });
    handles.push(handle);
    return handle;
  };

  beforeAll(async () => {
    test = await createTestSchema("db_migrate");
    fixture = await fixtureMigrationsFor(test.schema);
  });

  afterAll(async () => {
    await Promise.all(handles.map((h) => h.close()));
    await fixture?.remove();
    await test?.drop();
  });

  it("applies each migration once when replicas migrate the same schema at the same time", async () => {
    const replicas = await Promise.all([open(test.schema), open(test.schema), open(test.schema)]);
    const options = { migrationsFolder: fixture.folder, schema: test.schema, logger };

    const results = await Promise.all(replicas.map((replica) => migrate(replica, options)));

    expect(results.map((r) => r.applied).sort()).toEqual([0, 0, 2]);
    expect(results.every((r) => r.total === 2)).toBe(true);
    const recorded = await test.sql`select hash from ${test.sql(test.schema)}.__migrations`;
    expect(recorded).toHaveLength(2);
    await test.sql`insert into widgets (name, quantity) values ('bolt', 3)`;
    expect(await test.sql`select name, quantity from widgets`).toEqual([{ name: "bolt", quantity: 3 }]);
  });

  it("is a no-op when everything is applied", async () => {
    const handle = await open(test.schema);
    const result = await migrate(handle, { migrationsFolder: fixture.folder, schema: test.schema, logger });
    expect(result).toEqual({ applied: 0, total: 2 });
  });

  it("waits for the advisory lock another process holds", async () => {
    const other = await createTestSchema("db_migrate_lock");
    const otherFixture = await fixtureMigrationsFor(other.schema);
    const holder = postgres(testDatabaseUrl(), { max: 1, onnotice: () => {} });
    try {
      const lockName = migrationLockName(other.schema);
      await holder`select pg_advisory_lock(hashtext(${lockName}))`;
      const handle = await open(other.schema);
      let finished = false;
      const migrating = migrate(handle, { migrationsFolder: otherFixture.folder, schema: other.schema, logger }).then(
        (r) => {
          finished = true;
          return r;
        },
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(finished).toBe(false);

      await holder`select pg_advisory_unlock(hashtext(${lockName}))`;
      expect(await migrating).toEqual({ applied: 2, total: 2 });
    } finally {
      await holder.end();
      await otherFixture.remove();
      await other.drop();
    }
  });

  it("creates the schema when it does not exist yet", async () => {
    const schema = `${test.schema}_fresh`;
    const freshFixture = await fixtureMigrationsFor(schema);
    const handle = await open(schema);
    try {
      expect(await migrate(handle, { migrationsFolder: freshFixture.folder, schema, logger })).toEqual({
        applied: 2,
        total: 2,
      });
    } finally {
      await test.sql.unsafe(`drop schema if exists "${schema}" cascade`);
      await freshFixture.remove();
    }
  });
});
