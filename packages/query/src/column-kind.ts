import type { PgColumn } from "drizzle-orm/pg-core";

/**
 * How a column's values are compared and bound:
 * - `string`, `number`, `boolean`, `datetime`, `uuid`: the value is checked and bound as
 *   text, numeric, boolean, timestamptz or uuid;
 * - `textual`: compared through the column's text form (enums, inet, intervals…);
 * - `json`: a JSON/JSONB document queried by dotted paths.
 */
export type FieldKind = "string" | "number" | "boolean" | "datetime" | "uuid" | "textual" | "json";

/** The kind a Drizzle column suggests; `col(column, kind)` can say otherwise. */
export function inferColumnKind(column: PgColumn): FieldKind {
  switch (column.columnType) {
    case "PgUUID":
      return "uuid";
    case "PgTimestampString":
    case "PgDateString":
      return "datetime";
    case "PgNumeric":
      return "number";
    case "PgText":
    case "PgVarchar":
    case "PgChar":
      return "string";
    case "PgJson":
    case "PgJsonb":
      return "json";
  }
  switch (column.dataType) {
    case "number":
    case "bigint":
      return "number";
    case "boolean":
      return "boolean";
    case "date":
      return "datetime";
    case "json":
      return "json";
    default:
      return "textual";
  }
}
