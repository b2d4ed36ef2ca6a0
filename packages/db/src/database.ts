import type { PgDatabase, PgQueryResultHKT, PgTransaction } from "drizzle-orm/pg-core";
import type { ExtractTablesWithRelations } from "drizzle-orm";

/** Which engine a database handle talks to: a Postgres server, or PGlite embedded in this process. */
export type DatabaseKind = "postgres" | "pglite";

/**
 * The drizzle surface services program against. Both drivers (postgres.js and PGlite) are
 * `PgDatabase`s that differ only in the raw result shape of `execute`; use `queryRows` to read
 * raw SQL results the same way on both.
 */
export type Database<TTables extends Record<string, unknown> = Record<string, never>> = PgDatabase<
  PgQueryResultHKT,
  TTables
>;

/** What `db.transaction(async (tx) => …)` hands to its callback. */
export type Transaction<TTables extends Record<string, unknown> = Record<string, never>> = PgTransaction<
  PgQueryResultHKT,
  TTables,
  ExtractTablesWithRelations<TTables>
>;

/** A database or a transaction of any schema: what shared helpers accept so they run inside a caller's transaction. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type DatabaseExecutor = PgDatabase<PgQueryResultHKT, any, any>;
