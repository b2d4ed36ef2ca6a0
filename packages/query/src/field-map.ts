import type { PgColumn } from "drizzle-orm/pg-core";
import { inferColumnKind, type FieldKind } from "./column-kind";
import { invalidQuery } from "./invalid-query";
import { isKeySegment, parseKeyPath } from "./key-path";
import { QUERY_LIMITS } from "./limits";

/** One queryable field: a Drizzle column and how its values are compared. */
export interface QueryField {
  readonly column: PgColumn;
  readonly kind: FieldKind;
}

/** A column; its kind is inferred from the column unless given. */
export function col(column: PgColumn, kind?: FieldKind): QueryField {
  return { column, kind: kind ?? inferColumnKind(column) };
}

/** A JSON/JSONB column, queryable as a whole and by dotted paths (`data.cluster`). */
export function json(column: PgColumn): QueryField {
  return { column, kind: "json" };
}

export interface SortKey {
  key: string;
  desc?: boolean;
}

export interface QueryFieldsOptions {
  /** Fields (or JSON paths) `keyword` searches, case-insensitively. */
  keywordFields?: string[];
  /** The order when the query gives none, and the tie-breakers after the query's sort. */
  defaultSort?: SortKey | SortKey[];
  /** How deep a key may go into a JSON field; at most QUERY_LIMITS.maxPathDepth. */
  maxPathDepth?: number;
}

/** What can be queried for one entity. Column identifiers come only from here. */
export interface QueryFields {
  readonly fields: ReadonlyMap<string, QueryField>;
  readonly keywordFields: readonly string[];
  readonly defaultSort: readonly Required<SortKey>[];
  readonly maxPathDepth: number;
}

/** A key resolved against a field map: the field, its name and the JSON path below it. */
export interface ResolvedKey {
  readonly name: string;
  readonly field: QueryField;
  readonly path: readonly string[];
}

/**
 * Declares an entity's queryable fields. Misconfiguration is a programming error and
 * throws a plain Error at startup, not at request time.
 */
export function defineQueryFields(fields: Record<string, QueryField>, options: QueryFieldsOptions = {}): QueryFields {
  const map = new Map<string, QueryField>();
  for (const [name, field] of Object.entries(fields)) {
    if (!isKeySegment(name)) throw new Error(`query field "${name}" must be letters, digits, _ and - only`);
    map.set(name, field);
  }
  const maxPathDepth = Math.min(options.maxPathDepth ?? QUERY_LIMITS.maxPathDepth, QUERY_LIMITS.maxPathDepth);
  const defined: QueryFields = {
    fields: map,
    keywordFields: options.keywordFields ?? [],
    defaultSort: toList(options.defaultSort).map((sort) => ({ key: sort.key, desc: sort.desc ?? false })),
    maxPathDepth,
  };
  for (const key of [...defined.keywordFields, ...defined.defaultSort.map((sort) => sort.key)]) {
    try {
      resolveKey(defined, key, "field map");
    } catch {
      throw new Error(`query field map names "${key}", which is not one of its fields`);
    }
  }
  return defined;
}

/**
 * Resolves a key: its first segment must be a field of the map; further segments are only
 * allowed into a JSON field. Anything else is INVALID_ARGUMENT naming `parameter`.
 */
export function resolveKey(fields: QueryFields, key: string, parameter: string): ResolvedKey {
  const [name, ...path] = parseKeyPath(key, parameter, fields.maxPathDepth);
  const field = fields.fields.get(name);
  if (!field) throw invalidQuery(parameter, `Unknown field ${name}`, key);
  if (path.length > 0 && field.kind !== "json") {
    throw invalidQuery(parameter, `${name} is not a JSON field; it has no sub-keys`, key);
  }
  return { name, field, path };
}

const toList = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);
