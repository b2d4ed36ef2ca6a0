import { sql, type SQL } from "drizzle-orm";
import type { PgColumn } from "drizzle-orm/pg-core";
import { inferColumnKind, type FieldKind } from "./column-kind";
import { invalidQuery } from "./invalid-query";
import { isKeySegment, parseKeyPath } from "./key-path";
import { QUERY_LIMITS } from "./limits";

/**
 * An SQL expression over a table's columns that reads as a column: embedded as `(expression)`,
 * never a key or unique, never taken for jsonb's own column type unless it is JSON.
 */
export type ComputedColumn = SQL & {
  readonly computed: true;
  readonly primary: false;
  readonly isUnique: false;
  readonly notNull: boolean;
  readonly columnType: string;
};

/** What a field reads: a table column, or a computed expression (see `computed`). */
export type FieldColumn = PgColumn | ComputedColumn;

/** One queryable field: a Drizzle column (or a computed expression) and how its values are compared. */
export interface QueryField {
  readonly column: FieldColumn;
  readonly kind: FieldKind;
}

export const isComputed = (column: FieldColumn): column is ComputedColumn => "computed" in column && column.computed === true;

/** A column; its kind is inferred from the column unless given. */
export function col(column: PgColumn, kind?: FieldKind): QueryField {
  return { column, kind: kind ?? inferColumnKind(column) };
}

/**
 * A field whose value the database computes from the row when it is read (a stored form turned
 * into the one users query, say), filtered, sorted and returned like a column of `kind`. Give
 * `notNull` only when the expression can never be NULL.
 */
export function computed(expression: SQL, kind: FieldKind, options: { notNull?: boolean } = {}): QueryField {
  const column: ComputedColumn = Object.assign(sql`(${expression})`, {
    computed: true as const,
    primary: false as const,
    isUnique: false as const,
    notNull: options.notNull ?? false,
    columnType: kind === "json" ? "PgJsonb" : "computed",
  });
  return { column, kind };
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
  /**
   * The order when the query gives none, and the tie-breakers after the query's sort. It should
   * end in a key unique within the caller's scope, so every order is total and paging is stable;
   * when it names no primary-key or unique column, the map's primary-key column is appended.
   */
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
    defaultSort: withUniqueTieBreaker(map, toList(options.defaultSort).map((sort) => ({ key: sort.key, desc: sort.desc ?? false }))),
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

/**
 * The default sort, ending in a unique column when the map has one it lacks: rows tied on every
 * sort key would otherwise come in whatever order a plan yields, and a page boundary between
 * them could repeat or skip a row. A composite key (domain_id, id) is the map's business: its
 * sort should name the id, which is unique within the scope every List runs in.
 */
function withUniqueTieBreaker(fields: ReadonlyMap<string, QueryField>, sort: Required<SortKey>[]): Required<SortKey>[] {
  const unique = (name: string) => {
    const column = fields.get(name)?.column;
    return column !== undefined && (column.primary || (column.isUnique && column.notNull));
  };
  if (sort.some((entry) => unique(entry.key))) return sort;
  const primary = [...fields.keys()].find((name) => fields.get(name)!.column.primary);
  return primary === undefined ? sort : [...sort, { key: primary, desc: sort.at(-1)?.desc ?? false }];
}

const toList = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);
