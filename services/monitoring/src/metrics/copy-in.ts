import { once } from "node:events";
import type { Writable } from "node:stream";

/**
 * The part of a postgres.js client COPY needs. Typed structurally: monitoring reaches the driver only
 * through drizzle's `db.$client`, and does not depend on the postgres package itself.
 */
export interface PostgresJsClient extends CopyTarget {
  /** Runs `work` in a transaction on one connection; commits when it resolves. */
  begin<T>(work: (tx: CopyTarget) => Promise<T>): Promise<T>;
  reserve: unknown;
}

/** A client or a transaction COPY can run on. */
export interface CopyTarget {
  unsafe(query: string, parameters?: unknown[]): PostgresJsQuery;
}

/** A postgres.js Query: a promise whose `resolve`/`reject` the connection calls as the server answers. */
interface PostgresJsQuery extends PromiseLike<unknown> {
  writable(): Promise<Writable>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** The drizzle handle's driver when it is postgres.js (PGlite, the embedded engine, has no COPY FROM STDIN). */
export function postgresJsClientOf(db: unknown): PostgresJsClient | undefined {
  const client = (db as { $client?: Partial<PostgresJsClient> }).$client;
  return client && typeof client.unsafe === "function" && typeof client.begin === "function" && typeof client.reserve === "function"
    ? (client as PostgresJsClient)
    : undefined;
}

/**
 * Runs `copy … from stdin` (text format) with `chunks` as its data and settles once the server has
 * answered the whole statement, with its error if it failed.
 *
 * Why not just `await finished(await sql\`copy …\`.writable())`: postgres.js (3.4) settles that
 * stream only while it is being written. An error the server raises after the last byte was sent (a
 * constraint, a lock timeout, a cancel, the connection cut) reaches only the query's `reject`, which
 * is a no-op by then because the query already resolved with the stream: the stream never finishes
 * and the caller waits forever. So the query's own `resolve`/`reject` are observed instead: the first
 * `resolve` hands over the stream (CopyInResponse), the next one is ReadyForQuery after
 * CommandComplete (success), and `reject` is any error, whenever it comes.
 */
export async function copyIn(sql: CopyTarget, statement: string, chunks: Iterable<string | Buffer>): Promise<void> {
  const query = sql.unsafe(statement);
  let succeed!: () => void;
  let fail!: (error: unknown) => void;
  const outcome = new Promise<void>((resolve, reject) => ((succeed = resolve), (fail = reject)));
  outcome.catch(() => {}); // awaited below; an early failure must not count as unhandled meanwhile
  const { resolve, reject } = query;
  let streamHandedOver = false;
  query.resolve = (value) => {
    if (streamHandedOver) succeed();
    streamHandedOver = true;
    resolve(value);
  };
  query.reject = (error) => {
    fail(error);
    reject(error);
  };

  const stream = await query.writable(); // rejects when the statement itself fails (e.g. no such table)
  stream.on("error", () => {}); // postgres.js destroys the stream with the error it also passes to reject
  for (const chunk of chunks) {
    if (stream.write(chunk)) continue;
    // Wait for room, unless the statement failed meanwhile (a destroyed stream never drains).
    await Promise.race([once(stream, "drain"), outcome]);
  }
  stream.end();
  await outcome;
}

/** `value` escaped for COPY's text format: backslash, and the row and column delimiters. */
export function copyText(value: string): string {
  return needsEscape.test(value) ? value.replace(escaped, (c) => escapes[c]) : value;
}

const needsEscape = /[\\\t\n\r]/;
const escaped = /[\\\t\n\r]/g;
const escapes: Record<string, string> = { "\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r" };
