import { sql } from "drizzle-orm";
import type { Logger } from "pino";
import type { Database } from "@cloudforet/db";
import { queryRows } from "@cloudforet/db";
import { KEY_INDEX_PREFIX, SEARCH_KEY_LIMITS, createKeyIndexSql, searchKeyIndexName } from "./declared-keys";

const SCHEMA = "cloud_service";
const TABLE = "cloud_services";

/**
 * Builds the expression index of each declared search key (declared-keys.ts), concurrently so
 * that writers are never blocked, one at a time, in the background: declaring a type answers at
 * once, and the index is used as soon as it is valid. Idempotent across replicas and restarts:
 * the name comes from the key, `IF NOT EXISTS` skips a built one, and an INVALID index left by
 * an interrupted build is dropped and rebuilt.
 */
export class SearchKeyIndexer {
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
  ) {}

  /** Queues the indexes of these keys; the returned promise settles when they are done (or skipped). */
  declare(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return this.queue;
    this.queue = this.queue.then(async () => {
      for (const key of keys) await this.ensure(key);
    });
    return this.queue;
  }

  /** Resolves when every queued build has finished. */
  idle(): Promise<void> {
    return this.queue;
  }

  private async ensure(key: string): Promise<void> {
    const name = searchKeyIndexName(key);
    try {
      const existing = await this.indexes();
      const current = existing.find((index) => index.name === name);
      if (current?.valid) return;
      if (current) await this.db.execute(sql.raw(`DROP INDEX CONCURRENTLY IF EXISTS "${SCHEMA}"."${name}"`));
      else if (existing.length >= SEARCH_KEY_LIMITS.total) {
        this.logger.warn({ key, limit: SEARCH_KEY_LIMITS.total }, "search key not indexed: the table has as many key indexes as allowed");
        return;
      }
      const started = performance.now();
      await this.db.execute(sql.raw(createKeyIndexSql(SCHEMA, TABLE, key)));
      this.logger.info({ key, index: name, ms: Math.round(performance.now() - started) }, "search key index built");
    } catch (err) {
      // A replica building the same index at the same moment, or an embedded database that
      // cannot build concurrently: queries stay correct without the index, so log and go on.
      this.logger.warn({ err, key, index: name }, "search key index not built");
    }
  }

  private async indexes(): Promise<{ name: string; valid: boolean }[]> {
    const rows = await queryRows<{ name: string; valid: boolean }>(
      this.db,
      sql`SELECT c.relname AS name, i.indisvalid AS valid
          FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
          JOIN pg_namespace n ON n.oid = t.relnamespace
          WHERE n.nspname = ${SCHEMA} AND t.relname = ${TABLE} AND starts_with(c.relname::text, ${KEY_INDEX_PREFIX})`,
    );
    return rows;
  }
}
