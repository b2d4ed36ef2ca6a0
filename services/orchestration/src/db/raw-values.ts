/*
 * Values of rows read with raw SQL (`returning *`, `to_jsonb`): postgres.js hands timestamps back as
 * Dates, `to_jsonb` as ISO strings; json columns come parsed, or as text through some paths.
 */

/** A timestamp column's value as a Date (null stays null). */
export const dateOf = (value: unknown): Date | null => (value === null || value === undefined ? null : value instanceof Date ? value : new Date(String(value)));

/** A json column's value, parsed when it came as text. */
export const jsonOf = <T>(value: unknown): T => (typeof value === "string" ? JSON.parse(value) : value) as T;
