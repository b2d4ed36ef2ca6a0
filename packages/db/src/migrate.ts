import { sql } from "drizzle-orm";
import { readMigrationFiles, type MigrationConfig, type MigrationMeta } from "drizzle-orm/migrator";
import type { PgDialect, PgSession } from "drizzle-orm/pg-core";
import type { Logger } from "pino";
import type { Database } from "./database";
import type { DatabaseHandle } from "./open-database";
import { queryRows } from "./query-rows";
import { serializeInProcess, withMigrationLock } from "./migration-lock";

export const DEFAULT_MIGRATIONS_TABLE = "__migrations";

export interface MigrateOptions {
  /** The drizzle-kit output folder (SQL files plus `meta/_journal.json`). */
  migrationsFolder: string;
  /** The service's schema; it also holds the service's own migrations table. */
  schema: string;
  logger: Logger;
  /** Default `__migrations`. */
  migrationsTable?: string;
}

export interface MigrateResult {
  /** Migrations this call applied (0 when another replica had already applied them). */
  applied: number;
  /** Migrations in the folder. */
  total: number;
}

/**
 * Applies the service's drizzle-kit migrations that the database has not seen yet, recording them in
 * `<schema>.__migrations`. On Postgres it holds an advisory lock on one dedicated connection for the
 * whole run, so replicas starting together apply each migration once.
 */
export async function migrate<TTables extends Record<string, unknown>>(
  database: DatabaseHandle<TTables>,
  options: MigrateOptions,
): Promise<MigrateResult> {
  const { schema } = options;
  const migrationsTable = options.migrationsTable ?? DEFAULT_MIGRATIONS_TABLE;
  const log = options.logger.child({ component: "migrate", schema });
  const migrations = readMigrationFiles({ migrationsFolder: options.migrationsFolder }).map(tolerateExistingSchema);
  const handle = database as unknown as DatabaseHandle;

  const run = async (db: Database) => {
    await db.execute(sql`create schema if not exists ${sql.identifier(schema)}`);
    const before = await countApplied(db, schema, migrationsTable);
    await applyMigrations(db, migrations, {
      migrationsFolder: options.migrationsFolder,
      migrationsSchema: schema,
      migrationsTable,
    });
    const applied = (await countApplied(db, schema, migrationsTable)) - before;
    log.info({ applied, total: migrations.length, migrations_table: migrationsTable }, "migrations up to date");
    return { applied, total: migrations.length };
  };

  if (handle.kind === "postgres") {
    return handle.withDedicatedConnection((db) => withMigrationLock(db, schema, log, () => run(db)));
  }
  // PGlite lives in this process only, so an in-process queue per schema is the lock.
  return serializeInProcess(`pglite:${schema}`, () => handle.withDedicatedConnection(run));
}

/**
 * drizzle-kit starts a schema's first migration with `CREATE SCHEMA "<name>"`, but the migrator has
 * already created that schema to hold its migrations table, so make the statement idempotent.
 */
function tolerateExistingSchema(migration: MigrationMeta): MigrationMeta {
  return {
    ...migration,
    sql: migration.sql.map((statement) =>
      statement.replace(/^(\s*create\s+schema\s+)(?!if\s+not\s+exists\b)/i, "$1IF NOT EXISTS "),
    ),
  };
}

interface DrizzleInternals {
  dialect: PgDialect;
  session: PgSession;
}

/**
 * The body of drizzle's own `migrate()` for both drivers (`db.dialect.migrate(…)`), called directly
 * so the statements can be adjusted first and the run stays on the dedicated connection.
 */
async function applyMigrations(
  db: Database,
  migrations: MigrationMeta[],
  config: MigrationConfig,
): Promise<void> {
  const { dialect, session } = db as unknown as DrizzleInternals;
  await dialect.migrate(migrations, session, config);
}

async function countApplied(db: Database, schema: string, table: string): Promise<number> {
  const qualified = `${quoteIdentifier(schema)}.${quoteIdentifier(table)}`;
  const [exists] = await queryRows<{ present: boolean }>(db, sql`select to_regclass(${qualified}) is not null as present`);
  if (!exists?.present) return 0;
  const [row] = await queryRows<{ count: number }>(
    db,
    sql`select count(*)::int as count from ${sql.identifier(schema)}.${sql.identifier(table)}`,
  );
  return Number(row?.count ?? 0);
}

const quoteIdentifier = (name: string) => `"${name.replace(/"/g, '""')}"`;
