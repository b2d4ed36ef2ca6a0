import type { JsonValue } from "@bufbuild/protobuf";
import { sql, type SQL } from "drizzle-orm";
import { parseDatetime } from "./datetime";

/** The Postgres types values are bound as. */
export type SqlType = "text" | "numeric" | "boolean" | "timestamptz" | "uuid" | "jsonb";

const numericText = /^[+-]?(\d{1,40}(\.\d{0,40})?|\.\d{1,40})([eE][+-]?\d{1,3})?$/;
const uuidText = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A value as the text Postgres casts to `type`, or undefined when it is not one. Every
 * encoding is canonical (numbers through JavaScript, date-times as UTC ISO strings), so
 * the cast in SQL cannot fail.
 */
export function encodeValue(value: JsonValue, type: SqlType): string | undefined {
  switch (type) {
    case "text":
      return typeof value === "string" ? value : undefined;
    case "numeric":
      return encodeNumber(value);
    case "boolean":
      if (typeof value === "boolean") return String(value);
      return value === "true" || value === "false" ? value : undefined;
    case "timestamptz":
      return typeof value === "string" ? parseDatetime(value)?.toISOString() : undefined;
    case "uuid":
      return typeof value === "string" && uuidText.test(value) ? value.toLowerCase() : undefined;
    case "jsonb":
      return JSON.stringify(value);
  }
}

function encodeNumber(value: JsonValue): string | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : undefined;
  if (typeof value !== "string" || !numericText.test(value.trim())) return undefined;
  const number = Number(value);
  return Number.isFinite(number) ? String(number) : undefined;
}

/** What a type expects, for messages. */
export const typeDescription: Record<SqlType, string> = {
  text: "a string",
  numeric: "a number",
  boolean: "true or false",
  timestamptz: "an ISO 8601 date-time",
  uuid: "a UUID",
  jsonb: "a JSON value",
};

/**
 * A bound parameter declared as text. Every value goes to the database as text and is cast
 * there: drivers serialize a parameter by the type the server infers for it (postgres.js
 * sends any non-`true` value of a boolean parameter as false), so text is the one type
 * that reaches Postgres unchanged from every driver.
 */
export const textParameter = (text: string): SQL => sql`${text}::text`;

/** One bound parameter, cast to its type; the type name is ours, never the caller's. */
export const bindValue = (encoded: string, type: SqlType): SQL =>
  type === "text" ? textParameter(encoded) : sql`${textParameter(encoded)}::${sql.raw(type)}`;

/**
 * A list of values as one bound parameter (a JSON array of their encodings) unpacked into a
 * typed Postgres array, so a thousand-value `in` costs one parameter, not a thousand.
 */
export const bindList = (encoded: string[], type: SqlType): SQL =>
  sql`ARRAY(SELECT t.v::${sql.raw(type)} FROM jsonb_array_elements_text(${textParameter(JSON.stringify(encoded))}::jsonb) AS t(v))`;
