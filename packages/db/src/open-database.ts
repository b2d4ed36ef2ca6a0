import postgres from "postgres";
import { sql } from "drizzle-orm";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import type { Logger } from "pino";
import type { Database, DatabaseExecutor, DatabaseKind } from "./database";
import { acquirePglite } from "./pglite-registry";
import { PostgresNotifications, registerNotifications, type Notifications } from "./notifications";
import { ReplaceablePool, type PoolWatchOptions } from "./replaceable-pool";

export const DEFAULT_PGLITE_DATA_DIR = ".data/pglite";

export interface OpenDatabaseOptions<TTables extends Record<string, unknown> = Record<string, never>> {
  /** A Postgres URL (`DATABASE_URL`). Without one the database is embedded PGlite under `dataDir`. */
  url?: string;
  /** Where embedded PGlite keeps its files (default `./.data/pglite`); `memory://` keeps them in memory. */
  dataDir?: string;
  /** The service's Postgres schema (`pgSchema("<service>")`), used to name connections and log lines. */
  schema: string;
  logger: Logger;
  /** The service's drizzle tables and relations, for `db.query.<table>` (optional). */
  tables?: TTables;
  /** Pool size of the postgres.js client (default 10). Ignored for PGlite, which has one connection. */
  poolSize?: number;
  /** Seconds an idle pooled connection stays open (default 60). */
  idleTimeoutSeconds?: number;
  /** Seconds to wait for a Postgres connection before failing (default 10). */
  connectTimeoutSeconds?: number;
  /**
   * Run recurring statements as named prepared statements (default true): one round trip instead
   * of two, and no planning per call. Off behind a pooler in transaction mode that does not carry
   * prepared statements across server connections.
   */
  preparedStatements?: boolean;
  /**
   * Let Postgres plan a prepared statement once for all its values (its default: a generic plan
   * after five runs) instead of for each call's values (default false). For a service whose
   * statements find rows by key, as the orchestration engine's: planning its large statements on
   * every call cost a third of its throughput. Wrong for user-shaped queries (List and Stat
   * filters), whose best plan depends on the values.
   */
  genericPlans?: boolean;
  /** When `ping` declares the pool wedged and replaces it (see `ReplaceablePool`). */
  poolWatch?: PoolWatchOptions;
}

export interface DatabaseHandle<TTables extends Record<string, unknown> = Record<string, never>> {
  db: Database<TTables>;
  kind: DatabaseKind;
  schema: string;
  /** Resolves when the database answers `select 1`; rejects with the driver's error otherwise. */
  ping(): Promise<void>;
  /**
   * Runs `work` on one connection that nothing else uses meanwhile, for session state such as
   * advisory locks. On PGlite that is the one shared connection.
   */
  withDedicatedConnection<T>(work: (db: Database) => Promise<T>): Promise<T>;
  /**
   * LISTEN/NOTIFY on a connection of its own, opened at the first `listen` (also found with
   * `notificationsOf(db)`). Undefined on PGlite: callers poll and kick there.
   */
  notifications: Notifications | undefined;
  /** Ends the pool, or releases this service's reference to the shared PGlite instance. */
  close(): Promise<void>;
}

/** Opens the service's database: postgres.js when a URL is given, else the process-wide PGlite. */
export async function openDatabase<TTables extends Record<string, unknown> = Record<string, never>>(
  options: OpenDatabaseOptions<TTables>,
): Promise<DatabaseHandle<TTables>> {
  return options.url ? openPostgres(options, options.url) : openPglite(options);
}

function openPostgres<TTables extends Record<string, unknown>>(
  options: OpenDatabaseOptions<TTables>,
  url: string,
): DatabaseHandle<TTables> {
  const prepared = options.preparedStatements ?? true;
  const connectionOptions = {
    onnotice: () => {},
    connect_timeout: options.connectTimeoutSeconds ?? 10,
    // No custom types are used; skipping the type lookup saves a round trip per connection and
    // avoids an unhandled rejection when a connection is cut during it.
    fetch_types: false,
    connection: {
      application_name: `cloudforet-${options.schema}`,
      // A prepared statement keeps its parse but is planned for its parameters every time (unless
      // `genericPlans`). Left to itself Postgres switches a statement to one generic plan after five
      // runs; for a List whose filters select 10% of a million rows that plan sorted every match
      // (724 ms) where the plan for the values walks the name index (10 ms). Unnamed statements are
      // always planned so.
      ...(prepared && !options.genericPlans ? { plan_cache_mode: "force_custom_plan" } : {}),
    },
  };
  // Idle connections close (after a minute by default): a pool sized for a burst does not hold a
  // Postgres backend per slot for the rest of the process's life.
  const log = options.logger.child({ component: "db", schema: options.schema, db_kind: "postgres" });
  const pool = new ReplaceablePool(
    () => postgres(url, { ...connectionOptions, max: options.poolSize ?? 10, idle_timeout: options.idleTimeoutSeconds ?? 60 }),
    () => postgres(url, { ...connectionOptions, max: 1, connect_timeout: 5 }),
    log,
    { ...options.poolWatch, autoPrepare: prepared },
  );
  const db = drizzlePostgres(pool.client, { schema: options.tables }) as unknown as Database<TTables>;
  log.info({ host: describeHost(url), pool_size: options.poolSize ?? 10 }, "database opened");
  const notifications = new PostgresNotifications(
    (handlers) =>
      postgres(url, {
        ...connectionOptions,
        ...handlers,
        max: 1,
        // The LISTENing connection must stay open: never recycled for being idle or old.
        idle_timeout: 0,
        max_lifetime: null,
        connection: { application_name: `cloudforet-${options.schema}-listen` },
      }),
    log.child({ component: "db-notifications" }),
  );
  registerNotifications(db, notifications);

  let closed = false;
  return {
    db,
    kind: "postgres",
    schema: options.schema,
    ping: () => pool.ping(),
    async withDedicatedConnection(work) {
      const dedicated = postgres(url, { ...connectionOptions, max: 1 });
      try {
        return await work(drizzlePostgres(dedicated) as unknown as Database);
      } finally {
        await dedicated.end({ timeout: 5 });
      }
    },
    notifications,
    async close() {
      if (closed) return;
      closed = true;
      await notifications.close();
      await pool.end({ timeout: 5 });
      log.info("database closed");
    },
  };
}

async function openPglite<TTables extends Record<string, unknown>>(
  options: OpenDatabaseOptions<TTables>,
): Promise<DatabaseHandle<TTables>> {
  const lease = await acquirePglite(options.dataDir ?? DEFAULT_PGLITE_DATA_DIR);
  const db = drizzlePglite(lease.client, { schema: options.tables }) as unknown as Database<TTables>;
  const log = options.logger.child({ component: "db", schema: options.schema, db_kind: "pglite" });
  log.info({ data_dir: lease.dataDir }, "database opened");

  let closed = false;
  return {
    db,
    kind: "pglite",
    schema: options.schema,
    ping: () => ping(db),
    // PGlite has one connection; its transaction mutex already keeps other callers out of a transaction.
    withDedicatedConnection: (work) => work(db as unknown as Database),
    notifications: undefined,
    async close() {
      if (closed) return;
      closed = true;
      await lease.release();
      log.info("database closed");
    },
  };
}

async function ping(db: DatabaseExecutor): Promise<void> {
  await db.execute(sql`select 1`);
}

/** host:port/database of a URL, without credentials, for log lines. */
function describeHost(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.host}${parsed.pathname}`;
  } catch {
    return "(unparseable url)";
  }
}
