import type { JsonValue } from "@bufbuild/protobuf";
import { or, sql, type SQL } from "drizzle-orm";
import { isKeyChain } from "./json-path-sql";
import { bindList, textParameter } from "./typed-value";

/** Beyond this many candidate documents, one bound array (`@> ANY`) instead of an OR of bound documents. */
const inlineCandidates = 8;

/**
 * Whether `column @> {path: value}` matches exactly the rows `eq` with the value matches.
 * Comparisons are type-strict (a string matches only JSON strings, a number only numbers, a
 * boolean only booleans), and below a top-level object `@>` compares scalars by equality of
 * type and value (an array there does not contain a scalar; only a top-level array does), so
 * for every scalar the containment is the comparison. An object or list is contained in more
 * than the equal value ({"a":1,"b":2} contains {"a":1}), so for those it only pre-filters.
 */
const isExact = (value: JsonValue) => value === null || typeof value !== "object";

/** `{"a":{"b":<form>}}` for path a.b: the document `@>` looks for. */
function documentAt(path: readonly string[], form: string): string {
  return path.reduceRight((inner, segment) => `{${JSON.stringify(segment)}:${inner}}`, form);
}

/** A containment condition, and whether it is the comparison itself or only implied by it. */
export interface Containment {
  condition: SQL;
  /** True when the condition matches exactly the rows the comparison matches. */
  exact: boolean;
}

/**
 * A condition every row matching `eq`/`in` with these (non-null) values at the path satisfies:
 * `column @> '{"cluster":"c1"}'`, which a GIN (jsonb_path_ops) index on the column serves and
 * whose selectivity Postgres estimates from the column's statistics. When `exact`, it replaces
 * the comparison; otherwise the caller ANDs the two, so results never change. Undefined when
 * no such condition is sound: a null value (which matches missing keys; the caller ORs that
 * part in itself) or a path with an array index.
 */
export function containmentFilter(document: SQL, path: readonly string[], values: readonly JsonValue[]): Containment | undefined {
  if (path.length === 0 || !isKeyChain(path) || values.length === 0) return undefined;
  const documents = new Set<string>();
  let exact = true;
  for (const value of values) {
    if (value === null) return undefined;
    exact &&= isExact(value);
    documents.add(documentAt(path, JSON.stringify(value)));
  }
  const list = [...documents];
  const condition =
    list.length <= inlineCandidates
      ? or(...list.map((text) => sql`(${document} @> ${textParameter(text)}::jsonb)`))!
      : sql`(${document} @> ANY(${bindList(list, "jsonb")}))`;
  return { condition, exact };
}
