import type { SQL } from "drizzle-orm";
import type { PgDialect } from "drizzle-orm/pg-core";
import type { DatabaseExecutor } from "@cloudforet/db";
import { queryRows } from "@cloudforet/db";

interface PostgresJsClient {
  unsafe(query: string, params: unknown[], options: { prepare: boolean }): Promise<unknown[]>;
}

/**
 * Runs one of the engine's hot statements as a named prepared statement on postgres.js (one round
 * trip per call; Drizzle's unnamed statements take two: describe, then execute). On PGlite, or
 * anything else, it is `queryRows`.
 */
export async function preparedRows<TRow extends Record<string, unknown>>(exec: DatabaseExecutor, query: SQL): Promise<TRow[]> {
  const internals = exec as unknown as { session?: { client?: Partial<PostgresJsClient> }; dialect?: PgDialect };
  const client = internals.session?.client;
  if (client && typeof client.unsafe === "function" && internals.dialect) {
    const { sql: text, params } = internals.dialect.sqlToQuery(query);
    return (await client.unsafe(text, params, { prepare: true })) as TRow[];
  }
  return queryRows<TRow>(exec, query);
}
