import pino from "pino";
import { pgSchema } from "drizzle-orm/pg-core";
import { migrate, openDatabase, type DatabaseHandle } from "@cloudforet/db";
import { createTestSchema, testDatabaseUrl, type TestSchema } from "@cloudforet/testing";
import { fixtureMigrationsFor } from "./fixtures/fixture-migrations";
import { fixtureTables } from "./fixtures/fixture-schema";

export const testLogger = pino({ level: process.env.LOG_LEVEL ?? "silent" });

/** The fixture service's tables bound to a test's own schema. */
export const serviceTables = (schemaName: string) => fixtureTables(pgSchema(schemaName));

export interface ServiceDatabase {
  test: TestSchema;
  database: DatabaseHandle;
  tables: ReturnType<typeof serviceTables>;
  cleanup(): Promise<void>;
}

/** A test schema on the real Postgres with the fixture service's migrations applied. */
export async function migratedServiceDatabase(prefix: string): Promise<ServiceDatabase> {
  const test = await createTestSchema(prefix);
  const migrations = await fixtureMigrationsFor(test.schema);
  const database = await openDatabase({ url: testDatabaseUrl(), schema: test.schema, logger: testLogger, poolSize: 4 });
  try {
    await migrate(database, { migrationsFolder: migrations.folder, schema: test.schema, logger: testLogger });
  } finally {
    await migrations.remove();
  }
  return {
    test,
    database,
    tables: serviceTables(test.schema),
    async cleanup() {
      await database.close();
      await test.drop();
    },
  };
}
