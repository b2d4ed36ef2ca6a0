import type { JsonValue } from "@bufbuild/protobuf";

/** JSON with object keys sorted, so equal values print equally. */
export function canonical(value: JsonValue | undefined): string {
  if (value === undefined) return "undefined";
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    return `{${Object.keys(value)
      .filter((k) => value[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}

export function sameJson(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  return canonical(a) === canonical(b);
}

/**
 * The tag edits that turn `current` into `desired` (the declared tags are the whole set);
 * undefined when the document declares no tags, which leaves them alone.
 */
export function tagChanges(current: Record<string, string>, desired: Record<string, string> | undefined): { tags: Record<string, string>; removeTags: string[] } | undefined {
  if (desired === undefined) return undefined;
  const tags = Object.fromEntries(Object.entries(desired).filter(([k, v]) => current[k] !== v));
  const removeTags = Object.keys(current).filter((k) => !(k in desired));
  return Object.keys(tags).length === 0 && removeTags.length === 0 ? undefined : { tags, removeTags };
}
