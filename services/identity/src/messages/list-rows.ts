import type { JsonObject } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate, type Timestamp } from "@bufbuild/protobuf/wkt";

/**
 * Reads one List result: the query language returns rows keyed by field name, trimmed by `only`,
 * so every field may be absent (and then stays unset in the response).
 */
export function listRow(row: Record<string, unknown>) {
  return {
    text: (key: string) => (typeof row[key] === "string" ? (row[key] as string) : undefined),
    time: (key: string): Timestamp | undefined => (row[key] instanceof Date ? timestampFromDate(row[key] as Date) : undefined),
    tags: (key: string) => (row[key] && typeof row[key] === "object" ? (row[key] as Record<string, string>) : undefined),
    json: (key: string) => (row[key] && typeof row[key] === "object" ? (row[key] as JsonObject) : undefined),
    enumValue: <E extends Record<string, string | number>>(key: string, values: E): E[keyof E] | undefined =>
      typeof row[key] === "string" ? (values[row[key] as keyof E] as E[keyof E] | undefined) : undefined,
  };
}

/** A nullable column as an optional Timestamp. */
export const optionalTime = (value: Date | null | undefined): Timestamp | undefined => (value ? timestampFromDate(value) : undefined);

/** An optional wire time as a Date (validated by the rules that take it). */
export const optionalDate = (value: Timestamp | undefined): Date | undefined => (value ? timestampDate(value) : undefined);
