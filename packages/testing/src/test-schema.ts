import postgres from "postgres";
import { drizzle, type PostgresJsDatabase } from "drizzle-orm/postgres-js";
import { testDatabaseUrl, uniqueSuffix } from "./environment";
import { TestBackendUnavailableError, redactUrl } from "./reachability";
import { recordScanBeforeDrop } from "./leak-scan";

export interface TestSchema {
  /** The schema's name, unique to this test file. */
  schema: string;
  /** A postgres.js client whose search_path is the schema (then public). */
  sql: postgres.Sql;
  db: PostgresJsDatabase;
  /** Drops the schema and closes the connection; under the secrets sweep, scans it first. */
  drop(): Promise<void>;
}

/**
 * An isolated schema on the real Postgres for one test file, so test files run in parallel
 * without seeing each other's rows. Call `drop()` in afterAll.
 */
export async function createTestSchema(prefix = "t"): Promise<TestSchema> {
  const schema = `${prefix.replace(/[^a-z0-9_]/gi, "_").toLowerCase()}_${uniqueSuffix()}`;
  const admin = postgres(testDatabaseUrl(), { max: 1, connect_timeout: 5, onnotice: () => {} });
  try {
    await admin.unsafe(`CREATE SCHEMA "${schema}"`);
  } catch (err) {
    // A SQLSTATE means the server answered; anything else means it could not be reached.
    if (/^[0-9A-Z]{5}$/.test(String((err as { code?: unknown }).code))) throw err;
    throw new TestBackendUnavailableError("PostgreSQL", redactUrl(testDatabaseUrl()), "DATABASE_URL", err);
  } finally {
    await admin.end({ timeout: 1 }).catch(() => {});
  }
  const sql = postgres(testDatabaseUrl(), {
    max: 4,
    onnotice: () => {},
    connection: { search_path: `"${schema}",public` },
  });
  return {
    schema,
    sql,
    db: drizzle(sql),
    async drop() {
      await recordScanBeforeDrop(sql, [schema]);
      await sql.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await sql.end();
    },
  };
}
