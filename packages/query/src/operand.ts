import type { JsonValue } from "@bufbuild/protobuf";
import { sql, type SQL } from "drizzle-orm";
import type { ResolvedKey } from "./field-map";
import { containmentFilter, type Containment } from "./json-containment";
import { jsonAt, jsonBooleanAt, jsonDocument, jsonNumberAt, jsonStringAt, jsonTextAt, jsonValueAt } from "./json-path-sql";
import { timestampFromText } from "./safe-timestamp";
import type { SqlType } from "./typed-value";

/** A typed side of a comparison: an SQL expression and the type its values are bound as. */
export interface Target {
  readonly expr: SQL;
  readonly type: SqlType;
}

/**
 * The SQL views of one resolved key that the operators need. A column has one type; a
 * JSON path is compared by the type of the value it is given, and only with stored values of
 * that type (a number numerically with JSON numbers, a string as text with JSON strings, a
 * boolean with JSON booleans, an object or array as jsonb); other stored types do not match.
 */
export interface Operand {
  readonly key: string;
  /** The comparison for this (non-null) value; undefined when the key cannot compare with it. */
  target(value: JsonValue): Target | undefined;
  readonly isNull: SQL;
  readonly isPresent: SQL;
  /** The value as text, for contain, regex and keyword. */
  readonly text: SQL;
  /** The jsonb at a JSON path, for element containment in arrays. */
  readonly json?: SQL;
  /** The value as timestamptz for the datetime and timediff operators, when it can hold one. */
  readonly timestamp?: SQL;
  /** What ORDER BY sorts on (for a JSON path, JSON null reads as missing: they sort together). */
  readonly order: SQL;
  /** True when the key can never be NULL (a NOT NULL column), so ORDER BY needs no NULLS clause. */
  readonly notNull: boolean;
  /**
   * An index-friendly condition implied by `eq`/`in` with these values (JSON containment);
   * undefined when there is none.
   */
  containment(values: readonly JsonValue[]): Containment | undefined;
}

export function operandFor(resolved: ResolvedKey, key: string): Operand {
  return resolved.field.kind === "json" ? jsonOperand(resolved, key) : columnOperand(resolved, key);
}

function columnOperand({ field }: ResolvedKey, key: string): Operand {
  const column = sql`${field.column}`;
  const asText = sql`(${field.column})::text`;
  const target = ((): Target => {
    switch (field.kind) {
      case "string":
        return { expr: column, type: "text" };
      case "number":
        return { expr: column, type: "numeric" };
      case "boolean":
        return { expr: column, type: "boolean" };
      case "datetime":
        return { expr: column, type: "timestamptz" };
      case "uuid":
        return { expr: column, type: "uuid" };
      default:
        return { expr: asText, type: "text" };
    }
  })();
  return {
    key,
    target: () => target,
    isNull: sql`(${column} IS NULL)`,
    isPresent: sql`(${column} IS NOT NULL)`,
    text: field.kind === "string" ? column : asText,
    timestamp:
      field.kind === "datetime" ? column : field.kind === "string" || field.kind === "textual" ? timestampFromText(asText) : undefined,
    order: column,
    notNull: field.column.notNull,
    containment: () => undefined,
  };
}

function jsonOperand({ field, path }: ResolvedKey, key: string): Operand {
  const json = jsonAt(field.column, path);
  const text = jsonTextAt(field.column, path);
  const targets: Record<"string" | "number" | "boolean" | "object", Target> = {
    string: { expr: jsonStringAt(field.column, path), type: "text" },
    number: { expr: jsonNumberAt(field.column, path), type: "numeric" },
    boolean: { expr: jsonBooleanAt(field.column, path), type: "boolean" },
    object: { expr: json, type: "jsonb" },
  };
  return {
    key,
    target: (value) => (value === null ? undefined : targets[typeof value as keyof typeof targets]),
    isNull: sql`(${json} IS NULL OR jsonb_typeof(${json}) = 'null')`,
    isPresent: sql`(${json} IS NOT NULL)`,
    text,
    json,
    timestamp: timestampFromText(text),
    order: jsonValueAt(field.column, path),
    notNull: false,
    containment: (values) => containmentFilter(jsonDocument(field.column), path, values),
  };
}
