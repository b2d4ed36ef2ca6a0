/**
 * What templates, conditions and expressions can read. A path is dotted ("user.plan",
 * "items[0].id"); one that starts with a root name reads that root, any other reads
 * `context.data` (so a router's `plan == pro` means `context.data.plan`).
 */
export interface EvaluationScope {
  context: Record<string, unknown>;
  /** Latest output of each block, by block id. */
  outputs: Record<string, unknown>;
  /** id, tenant_id, namespace, sequence_id, metadata of the running instance. */
  instance?: Record<string, unknown>;
  /** The instance-scoped key/value state (set_state, get_state). */
  state?: Record<string, unknown>;
}

const ROOTS = new Set(["context", "outputs", "instance", "state"]);

const SEGMENT = /^[A-Za-z0-9_$:-]+$/;

/**
 * "a.b[0].c" → ["a", "b", "0", "c"]; bracket keys may be quoted (`data["my key"]`, `data['k']`)
 * and then hold any character. Undefined when malformed.
 */
export function splitPath(path: string): string[] | undefined {
  const text = path.trim();
  if (text === "") return undefined;
  const segments: string[] = [];
  let i = 0;
  let expectName = true;
  while (i < text.length) {
    const ch = text[i];
    if (ch === "[") {
      const quoted = /^\[\s*(["'])((?:\\.|(?!\1)[^\\])*)\1\s*\]/.exec(text.slice(i));
      const index = quoted ? undefined : /^\[(\d+)\]/.exec(text.slice(i));
      if (quoted) segments.push(quoted[2].replace(/\\(.)/g, "$1"));
      else if (index) segments.push(index[1]);
      else return undefined;
      i += (quoted ?? index)![0].length;
      expectName = false;
      continue;
    }
    if (ch === ".") {
      if (expectName) return undefined;
      expectName = true;
      i++;
      continue;
    }
    if (!expectName) return undefined;
    const name = /^[^.[\]]+/.exec(text.slice(i));
    if (!name || !SEGMENT.test(name[0])) return undefined;
    segments.push(name[0]);
    i += name[0].length;
    expectName = false;
  }
  return expectName ? undefined : segments;
}

export function isValidPath(path: string): boolean {
  return splitPath(path) !== undefined;
}

/** Follows `segments` into nested objects and arrays; undefined when any step is missing. */
export function lookup(value: unknown, segments: string[]): unknown {
  let current = value;
  for (const segment of segments) {
    if (current === null || current === undefined) return undefined;
    if (Array.isArray(current)) {
      if (!/^\d+$/.test(segment)) return segment === "length" ? current.length : undefined;
      current = current[Number(segment)];
    } else if (typeof current === "object") {
      if (!Object.prototype.hasOwnProperty.call(current, segment)) return undefined;
      current = (current as Record<string, unknown>)[segment];
    } else {
      return undefined;
    }
  }
  return current;
}

/** Where a path starts: a root of the scope, or `context.data` for anything else. */
export function rootedSegments(path: string): string[] | undefined {
  const segments = splitPath(path);
  if (!segments) return undefined;
  return ROOTS.has(segments[0]) ? segments : ["context", "data", ...segments];
}

/**
 * The engine's other roots, read when the seed's reading finds nothing: `steps.x` (outputs),
 * `data.x` / `config.x` (context sections), `instance_id`, `runtime.x`.
 */
const ENGINE_ALIASES: Record<string, (rest: string[]) => string[]> = {
  steps: (rest) => ["outputs", ...rest],
  data: (rest) => ["context", "data", ...rest],
  config: (rest) => ["context", "config", ...rest],
  runtime: (rest) => ["context", "runtime", ...rest],
  instance_id: (rest) => ["instance", "id", ...rest],
};

/** Reads already-split segments (a root of the scope first, or a path into context.data). */
export function resolveSegments(scope: EvaluationScope, segments: string[]): unknown {
  if (segments.length === 0) return undefined;
  const roots: Record<string, unknown> = { context: scope.context, outputs: scope.outputs, instance: scope.instance ?? {}, state: scope.state ?? {} };
  if (ROOTS.has(segments[0])) return lookup(roots, segments);
  const value = lookup(roots, ["context", "data", ...segments]);
  const alias = ENGINE_ALIASES[segments[0]];
  return value === undefined && alias ? lookup(roots, alias(segments.slice(1))) : value;
}

export function resolvePath(scope: EvaluationScope, path: string): unknown {
  const segments = splitPath(path);
  return segments ? resolveSegments(scope, segments) : undefined;
}

/** Writes `value` at `path` under `context.data` (or a rooted `context.<section>…` path), creating objects on the way. */
export function assignContextPath(context: Record<string, unknown>, path: string, value: unknown): void {
  const segments = rootedSegments(path);
  if (!segments || segments[0] !== "context" || segments.length < 3) throw new Error(`cannot write to ${JSON.stringify(path)}: writes go under context.data`);
  let target = context;
  for (const segment of segments.slice(1, -1)) {
    const next = target[segment];
    if (next === null || typeof next !== "object" || Array.isArray(next)) target[segment] = {};
    target = target[segment] as Record<string, unknown>;
  }
  target[segments[segments.length - 1]] = value;
}

/** Python-like truthiness for JSON: false, null, 0, "", [] and {} are false. */
export function truthy(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === 0 || value === "") return false;
  if (typeof value === "number" && Number.isNaN(value)) return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === "object") return Object.keys(value as object).length > 0;
  return true;
}

/** Structural equality of JSON values. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((v, i) => jsonEqual(v, other[i]));
  }
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  return ka.length === kb.length && ka.every((k) => jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
