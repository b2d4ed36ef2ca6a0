import type { JsonValue } from "@bufbuild/protobuf";

/** The value at a dotted path (`data.cluster`, `reference.resource_id`) of a JSON value, if any. */
export function valueAt(value: JsonValue | undefined, path: string): JsonValue | undefined {
  let current: JsonValue | undefined = value;
  for (const segment of path.split(".")) {
    if (current === null || typeof current !== "object" || Array.isArray(current)) return undefined;
    current = current[segment];
  }
  return current;
}

/** A value as one line of text: scalars as they are, lists comma-joined, objects as compact JSON. */
export function cellText(value: JsonValue | undefined): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value.replace(/\s*\n\s*/g, " ");
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value) && value.every((v) => v === null || typeof v !== "object")) return value.map((v) => cellText(v)).join(",");
  return JSON.stringify(value);
}
