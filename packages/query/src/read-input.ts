import { invalidQuery } from "./invalid-query";

/**
 * Readers for the plain-JSON dialect of a query: each checks one value's type and throws
 * INVALID_ARGUMENT naming where it sat, so the normalizers read like the shape they accept.
 */
export type PlainObject = Record<string, unknown>;

export function isPlainObject(value: unknown): value is PlainObject {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

export function readObject(value: unknown, parameter: string): PlainObject {
  if (!isPlainObject(value)) throw invalidQuery(parameter, "Must be an object", value);
  return value;
}

export function readArray(value: unknown, parameter: string, maxLength: number): unknown[] {
  if (!Array.isArray(value)) throw invalidQuery(parameter, "Must be a list", value);
  if (value.length > maxLength) throw invalidQuery(parameter, `At most ${maxLength} entries are allowed`, value.length);
  return value;
}

export function readString(value: unknown, parameter: string, maxLength: number): string {
  if (typeof value !== "string") throw invalidQuery(parameter, "Must be a string", value);
  if (value.length > maxLength) throw invalidQuery(parameter, `At most ${maxLength} characters are allowed`, value);
  if (!isCleanText(value)) throw invalidQuery(parameter, "Contains a NUL character or broken UTF-16", value);
  return value;
}

export function readBoolean(value: unknown, parameter: string): boolean {
  if (typeof value !== "boolean") throw invalidQuery(parameter, "Must be true or false", value);
  return value;
}

/** An integer in [min, max]; digit strings are accepted, as proto3 JSON writes int64. */
export function readInteger(value: unknown, parameter: string, min: number, max: number): number {
  const number = typeof value === "string" && /^-?\d{1,16}$/.test(value) ? Number(value) : value;
  if (typeof number !== "number" || !Number.isInteger(number)) throw invalidQuery(parameter, "Must be an integer", value);
  if (number < min || number > max) throw invalidQuery(parameter, `Must be between ${min} and ${max}`, value);
  return number;
}

/** Rejects keys the dialect does not know, so a typo fails loudly instead of being ignored. */
export function rejectUnknownKeys(object: PlainObject, known: readonly string[], parameter: string): void {
  for (const key of Object.keys(object)) {
    if (!known.includes(key)) throw invalidQuery(`${parameter}.${key}`, "Unknown field", key);
  }
}

/** The first of several spellings present (`filter_or` / `filterOr`). */
export function pick(object: PlainObject, ...names: string[]): unknown {
  for (const name of names) if (object[name] !== undefined) return object[name];
  return undefined;
}

const nulOrLoneSurrogate = /[\u0000\p{Cs}]/u;

/** Postgres text holds neither NUL nor unpaired surrogates; such input is refused up front. */
export function isCleanText(text: string): boolean {
  return !nulOrLoneSurrogate.test(text);
}
