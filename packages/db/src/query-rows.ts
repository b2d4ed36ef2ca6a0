import type { SQLWrapper } from "drizzle-orm";
import type { DatabaseExecutor } from "./database";

/**
 * Runs raw SQL and returns its rows on either driver: postgres.js resolves `execute` to an array of
 * rows, PGlite to `{ rows }`.
 */
export async function queryRows<TRow extends Record<string, unknown> = Record<string, unknown>>(
  db: DatabaseExecutor,
  query: SQLWrapper | string,
): Promise<TRow[]> {
  const result: unknown = await db.execute(query);
  if (Array.isArray(result)) return result as TRow[];
  return ((result as { rows?: TRow[] } | undefined)?.rows ?? []) as TRow[];
}
