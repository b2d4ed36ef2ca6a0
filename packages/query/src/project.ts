const missing = Symbol("missing");
type Picked = unknown | typeof missing;

/**
 * Trims a result to the `only` paths. `data.cluster` keeps just that key inside `data`;
 * `data` keeps all of it; a path into an array of objects trims each element. Paths that
 * are absent from the row are left out. The row itself is not modified.
 */
export function project(row: Record<string, unknown>, only: readonly string[]): Record<string, unknown> {
  if (only.length === 0) return row;
  let result: unknown = {};
  for (const path of only) {
    const picked = pick(row, path.split("."));
    if (picked !== missing) result = merge(result, picked);
  }
  return result as Record<string, unknown>;
}

function pick(value: unknown, segments: string[]): Picked {
  if (segments.length === 0) return value;
  if (Array.isArray(value)) {
    return value.filter(isRecord).map((element) => {
      const picked = pick(element, segments);
      return picked === missing ? {} : picked;
    });
  }
  const [head, ...rest] = segments;
  if (!isRecord(value) || !Object.hasOwn(value, head)) return missing;
  const inner = pick(value[head], rest);
  return inner === missing ? missing : { [head]: inner };
}

/** Combines two picks of the same row; a whole value absorbs any part of it. */
function merge(left: unknown, right: unknown): unknown {
  if (Array.isArray(left) && Array.isArray(right)) return right.map((item, index) => merge(left[index], item));
  if (isRecord(left) && isRecord(right)) {
    const out: Record<string, unknown> = { ...left };
    for (const [key, value] of Object.entries(right)) {
      // defineProperty: a JSON key named __proto__ stays data, not a prototype.
      const merged = Object.hasOwn(out, key) ? merge(out[key], value) : value;
      Object.defineProperty(out, key, { value: merged, enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return right;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}
