import type { JsonValue } from "@bufbuild/protobuf";
import { invalidQuery } from "./invalid-query";
import { QUERY_LIMITS } from "./limits";
import { isCleanText, isPlainObject } from "./read-input";

/**
 * Checks a filter's `v` is JSON the database can hold: finite numbers, strings within the
 * length cap without NUL or broken UTF-16, arrays and objects within the size and depth caps.
 */
export function readFilterValue(value: unknown, parameter: string): JsonValue {
  return readValue(value, parameter, 0);
}

function readValue(value: unknown, parameter: string, depth: number): JsonValue {
  if (value === null || typeof value === "boolean") return value;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw invalidQuery(parameter, "Numbers must be finite", String(value));
    return value;
  }
  if (typeof value === "string") {
    if (value.length > QUERY_LIMITS.maxStringLength) {
      throw invalidQuery(parameter, `Strings may have at most ${QUERY_LIMITS.maxStringLength} characters`, value);
    }
    if (!isCleanText(value)) throw invalidQuery(parameter, "Contains a NUL character or broken UTF-16", value);
    return value;
  }
  if (depth >= QUERY_LIMITS.maxValueDepth) {
    throw invalidQuery(parameter, `Values may nest at most ${QUERY_LIMITS.maxValueDepth} levels`);
  }
  if (Array.isArray(value)) {
    if (value.length > QUERY_LIMITS.maxListValues) {
      throw invalidQuery(parameter, `Lists may hold at most ${QUERY_LIMITS.maxListValues} values`, value.length);
    }
    return value.map((item) => readValue(item, parameter, depth + 1));
  }
  if (isPlainObject(value)) {
    const entries = Object.entries(value);
    if (entries.length > QUERY_LIMITS.maxListValues) {
      throw invalidQuery(parameter, `Objects may hold at most ${QUERY_LIMITS.maxListValues} keys`, entries.length);
    }
    const out: { [key: string]: JsonValue } = {};
    for (const [key, item] of entries) {
      if (!isCleanText(key) || key.length > QUERY_LIMITS.maxStringLength) {
        throw invalidQuery(parameter, "Object keys must be clean strings", key);
      }
      if (item !== undefined) Object.defineProperty(out, key, { value: readValue(item, parameter, depth + 1), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  throw invalidQuery(parameter, `Unsupported value of type ${typeof value}`);
}
