import type postgres from "postgres";

type Sql = postgres.Sql;

/** How many statement texts are remembered while deciding which to prepare. */
const REMEMBERED_TEXTS = 2_000;
/** A text seen this many times (with parameters) becomes a named prepared statement. */
export const PREPARE_THRESHOLD = 2;

/**
 * Which statement texts recur: the ones to run as named prepared statements. Drizzle sends every
 * query unnamed, and postgres.js then takes two round trips for a query with parameters (describe,
 * then bind and execute) and Postgres plans it again each time. A named statement takes one round
 * trip after its first use on a connection. One-off texts (seen once) stay unnamed, so the
 * server-side statements of a connection stay bounded by the texts that recur (as JDBC's
 * prepareThreshold does). Counts are approximate once more than REMEMBERED_TEXTS texts were seen.
 */
export class RecurringTexts {
  private readonly seen = new Map<string, number>();

  /** Notes one more use of `text`; true once it recurs. */
  note(text: string): boolean {
    const count = (this.seen.get(text) ?? 0) + 1;
    if (count >= PREPARE_THRESHOLD) {
      if (count === PREPARE_THRESHOLD) this.seen.set(text, count);
      return true;
    }
    if (this.seen.size >= REMEMBERED_TEXTS) this.seen.delete(this.seen.keys().next().value!);
    this.seen.set(text, count);
    return false;
  }
}

type Unsafe = (query: string, params?: unknown[], options?: { prepare?: boolean }) => unknown;
type Scoped = (...args: unknown[]) => unknown;

/**
 * `sql` with `unsafe` preparing recurring texts, also inside `begin`/`savepoint` callbacks (a
 * transaction's own client). An explicit `prepare: true` is kept; Drizzle's `prepare: false` is
 * its default, not a request, so it is overridden for recurring texts. With `texts` undefined
 * (prepared statements switched off) nothing is prepared, not even on request.
 */
export function autoPrepared<T extends Sql | postgres.TransactionSql>(sql: T, texts: RecurringTexts | undefined): T {
  const prepare = (query: string, params: unknown[], options: { prepare?: boolean }): boolean =>
    texts !== undefined && params.length > 0 && (options.prepare === true || texts.note(query));
  const unsafe: Unsafe = (query, params = [], options = {}) => (sql.unsafe as Unsafe)(query, params, { ...options, prepare: prepare(query, params, options) });
  /** `begin`/`savepoint` take an optional mode or name, then the callback, which gets a client of its own. */
  const scoped =
    (method: Scoped): Scoped =>
    (...args) => {
      const last = args.length - 1;
      const work = args[last];
      if (typeof work !== "function") return method(...args);
      return method(...args.slice(0, last), (inner: postgres.TransactionSql) => work(autoPrepared(inner, texts)));
    };
  return new Proxy(sql, {
    get(target, prop, receiver) {
      if (prop === "unsafe") return unsafe;
      if (prop === "begin" || prop === "savepoint") return scoped(Reflect.get(target, prop, receiver) as Scoped);
      return Reflect.get(target, prop, receiver);
    },
  });
}
