/**
 * Driver-independent checks on database failures, so a service maps them once: a unique violation
 * to ERROR_CONFLICT, a lost or refused connection to ERROR_SERVICE_UNAVAILABLE. They look through
 * drizzle's `DrizzleQueryError` (the driver error is its `cause`) and `AggregateError`s.
 */

export const UNIQUE_VIOLATION = "23505";

/** SQLSTATEs that mean "the server is unavailable right now", not "your query is wrong". */
const UNAVAILABLE_SQLSTATES = new Set([
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now
  "53300", // too_many_connections
]);

/** postgres.js connection errors and the Node socket errors underneath them. */
const CONNECTION_ERROR_CODES = new Set([
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EPIPE",
]);

/** PGlite raises plain errors once it is shut down. */
const PGLITE_CLOSED = /^PGlite is clos(ed|ing)/;

/** The error, its `cause`s and the members of any `AggregateError`, depth-first. */
function* errorChain(err: unknown, depth = 0): Generator<unknown> {
  if (err == null || depth > 8) return;
  yield err;
  if (err instanceof AggregateError) {
    for (const inner of err.errors) yield* errorChain(inner, depth + 1);
  }
  if (typeof err === "object" && "cause" in err) yield* errorChain((err as { cause?: unknown }).cause, depth + 1);
}

function codeOf(err: unknown): string | undefined {
  const code = typeof err === "object" && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === "string" ? code : undefined;
}

/** The Postgres SQLSTATE of a failed query (postgres.js `PostgresError` or PGlite `DatabaseError`). */
export function sqlState(err: unknown): string | undefined {
  for (const e of errorChain(err)) {
    const code = codeOf(e);
    if (code && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

/** Which constraint a failed query violated, when the driver says. */
export function violatedConstraint(err: unknown): string | undefined {
  for (const e of errorChain(err)) {
    const name = typeof e === "object" && e !== null ? (e as { constraint_name?: unknown; constraint?: unknown }) : {};
    const constraint = name.constraint_name ?? name.constraint;
    if (typeof constraint === "string") return constraint;
  }
  return undefined;
}

export const isUniqueViolation = (err: unknown): boolean => sqlState(err) === UNIQUE_VIOLATION;

export function isConnectionError(err: unknown): boolean {
  for (const e of errorChain(err)) {
    const code = codeOf(e);
    if (code && (CONNECTION_ERROR_CODES.has(code) || UNAVAILABLE_SQLSTATES.has(code) || code.startsWith("08"))) {
      return true;
    }
    if (e instanceof Error && PGLITE_CLOSED.test(e.message)) return true;
  }
  return false;
}
