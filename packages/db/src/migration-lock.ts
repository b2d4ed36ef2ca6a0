import { sql } from "drizzle-orm";
import type { Logger } from "pino";
import type { Database } from "./database";
import { queryRows } from "./query-rows";

/** The advisory-lock key that serializes migrations of one schema across processes. */
export const migrationLockName = (schema: string) => `cloudforet:migrate:${schema}`;

/**
 * Holds `pg_advisory_lock(hashtext('cloudforet:migrate:<schema>'))` while `work` runs. `db` must be
 * a single dedicated connection: session-level advisory locks belong to the connection that took them.
 */
export async function withMigrationLock<T>(
  db: Database,
  schema: string,
  logger: Logger,
  work: () => Promise<T>,
): Promise<T> {
  const name = migrationLockName(schema);
  const [attempt] = await queryRows<{ locked: boolean }>(
    db,
    sql`select pg_try_advisory_lock(hashtext(${name})) as locked`,
  );
  if (!attempt?.locked) {
    logger.info({ lock: name }, "waiting for another process to finish migrating");
    await db.execute(sql`select pg_advisory_lock(hashtext(${name}))`);
  }
  try {
    return await work();
  } finally {
    await db.execute(sql`select pg_advisory_unlock(hashtext(${name}))`);
  }
}

const inProcessTails = new Map<string, Promise<unknown>>();

/** Runs `work` after every earlier call with the same key in this process has settled. */
export async function serializeInProcess<T>(key: string, work: () => Promise<T>): Promise<T> {
  const previous = inProcessTails.get(key) ?? Promise.resolve();
  const run = previous.catch(() => {}).then(work);
  const tail = run.catch(() => {});
  inProcessTails.set(key, tail);
  try {
    return await run;
  } finally {
    if (inProcessTails.get(key) === tail) inProcessTails.delete(key);
  }
}
