import { invalidParameter, type PlatformError } from "@cloudforet/errors";
import { INPUT_LIMITS, textProblem } from "@cloudforet/runtime";

/**
 * Checks of what the REST API reads before any handler sees it: path parameters, the query string
 * and the JSON body. Bad input is a 400 naming where it sat, never a 500 from Postgres (which holds
 * neither NUL nor lone surrogates) or a stack overflow in a later recursive walk.
 */

/** The largest offset/skip a list accepts: the int32 `page.start` of the gRPC API. */
export const MAX_REST_OFFSET = 2_147_483_647;
/** Query parameters that are list offsets; `limit` is checked by the page parser itself. */
const OFFSET_PARAMETERS = ["offset", "skip"];

/** A path segment decoded, or the 400 its bad percent-encoding or hostile text deserves. */
export function decodePathParameter(raw: string, name: string): string | PlatformError {
  let value: string;
  try {
    value = decodeURIComponent(raw);
  } catch {
    // "%E0%A4%A", "%ED%A0%80" (a lone surrogate): not UTF-8, so not a name anything could have.
    return invalidParameter(`${name} is not valid percent-encoded UTF-8`, { parameter: name });
  }
  const problem = textProblem(value);
  return problem ? invalidParameter(`${name} ${problem}`, { parameter: name }) : value;
}

/** The first query parameter that no handler should see: hostile text, or an offset out of range. */
export function queryProblem(query: URLSearchParams): PlatformError | undefined {
  for (const [key, value] of query) {
    const keyProblem = textProblem(key);
    if (keyProblem) return invalidParameter(`a query parameter name ${keyProblem}`, { parameter: "query" });
    const problem = textProblem(value);
    if (problem) return invalidParameter(`${key} ${problem}`, { parameter: key });
  }
  for (const name of OFFSET_PARAMETERS) {
    const value = query.get(name);
    if (value === null || value === "") continue;
    // Beyond this the number loses digits in JS, then overflows Postgres' bigint OFFSET.
    if (!/^\d{1,10}$/.test(value) || Number(value) > MAX_REST_OFFSET) {
      return invalidParameter(`${name} must be an integer from 0 to ${MAX_REST_OFFSET}`, { parameter: name, value: value.slice(0, 64) });
    }
  }
  return undefined;
}

/** An RFC 3339 time Postgres and every client can hold: years 0001..9999 (JS dates reach ±275760). */
export function isStorableTime(at: Date): boolean {
  const ms = at.getTime();
  return Number.isFinite(ms) && ms >= Number(INPUT_LIMITS.minTimestampSeconds) * 1000 && ms <= (Number(INPUT_LIMITS.maxTimestampSeconds) + 1) * 1000 - 1;
}

/**
 * The first problem of a parsed JSON body: a string or key holding NUL or a lone surrogate, a
 * number beyond 2^53, or nesting past the limit. Iterative, so a body 10,000 levels deep (which JSON.parse accepts) is
 * refused here instead of overflowing the stack of whatever walks it next.
 */
export function jsonBodyProblem(body: unknown): PlatformError | undefined {
  const stack: Visit[] = [{ value: body, depth: 0 }];
  while (stack.length > 0) {
    const visit = stack.pop()!;
    const { value, depth } = visit;
    if (typeof value === "string") {
      const problem = textProblem(value);
      if (problem) return problemAt(visit, problem);
      continue;
    }
    // Past 2^53 a JSON number has lost digits already, and an integer column overflows on it (version: 1e308).
    if (typeof value === "number" && Math.abs(value) > Number.MAX_SAFE_INTEGER) {
      return problemAt(visit, `is out of range (at most ${Number.MAX_SAFE_INTEGER} in magnitude)`);
    }
    if (value === null || typeof value !== "object") continue;
    if (depth >= INPUT_LIMITS.maxDepth) return problemAt(visit, `is nested deeper than ${INPUT_LIMITS.maxDepth} levels`);
    // Children go on the stack last first, so they are visited in document order.
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], depth: depth + 1, parent: visit, key: i });
      continue;
    }
    const keys = Object.keys(value);
    for (const key of keys) {
      const problem = textProblem(key);
      // The key itself cannot be echoed back: the object holding it is named.
      if (problem) return problemAt(visit, `has a key that ${problem}`);
    }
    for (let i = keys.length - 1; i >= 0; i--) stack.push({ value: (value as Record<string, unknown>)[keys[i]], depth: depth + 1, parent: visit, key: keys[i] });
  }
  return undefined;
}

/** One value of a body being checked; its path is spelled out only when it has a problem. */
interface Visit {
  value: unknown;
  depth: number;
  parent?: Visit;
  /** Index in the parent array, or key in the parent object. */
  key?: number | string;
}

/** ERROR_INVALID_PARAMETER naming the value at fault: "<path> <problem>". */
function problemAt(visit: Visit, problem: string): PlatformError {
  const parameter = nameOf(visit);
  return invalidParameter(`${parameter} ${problem}`, { parameter });
}

/** "instances[3].context.data", or "body" for the body itself. */
function nameOf(visit: Visit): string {
  const keys: (number | string)[] = [];
  for (let at: Visit | undefined = visit; at?.parent; at = at.parent) keys.push(at.key!);
  let path = "";
  for (let i = keys.length - 1; i >= 0; i--) {
    const key = keys[i];
    path = typeof key === "number" ? `${path}[${key}]` : path ? `${path}.${key}` : key;
  }
  return path || "body";
}

/** An optional RFC 3339 time of a request (body field or query parameter). */
export function optionalTime(value: unknown, parameter: string): Date | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  const at = typeof value === "string" ? new Date(value) : undefined;
  if (!at || !isStorableTime(at)) throw invalidParameter(`${parameter} must be an RFC 3339 time from year 0001 to 9999`, { parameter, value: String(value) });
  return at;
}

/** An optional integer of a request (body field or query parameter). */
export function optionalInt(value: unknown, parameter: string): number | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  const n = typeof value === "string" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isSafeInteger(n)) throw invalidParameter(`${parameter} must be an integer of at most ${Number.MAX_SAFE_INTEGER} in magnitude`, { parameter, value: String(value) });
  return n;
}
