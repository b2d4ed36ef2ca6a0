import type { Interceptor } from "@connectrpc/connect";
import { invalidParameter } from "@cloudforet/errors";

const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const isMessage = (value: object) => "$typeName" in value;

/**
 * The first top-level field of a request — a string, a list of strings or a map of strings (ids,
 * names, tags) — that holds a NUL character, if any. Nested messages (batch rows, Structs) are
 * left to the handlers, which may refuse one row of a batch rather than the whole request.
 */
export function findNul(message: object): string | undefined {
  for (const [key, value] of Object.entries(message)) {
    if (key.startsWith("$")) continue;
    const parameter = snake(key);
    if (typeof value === "string") {
      if (value.includes("\u0000")) return parameter;
    } else if (Array.isArray(value)) {
      if (value.some((item) => typeof item === "string" && item.includes("\u0000"))) return parameter;
    } else if (value !== null && typeof value === "object" && !isMessage(value) && !(value instanceof Uint8Array)) {
      for (const [mapKey, item] of Object.entries(value)) {
        if (mapKey.includes("\u0000") || (typeof item === "string" && item.includes("\u0000"))) return parameter;
      }
    }
  }
  return undefined;
}

/**
 * Postgres text cannot hold U+0000: a request with one in a top-level id, name or tag is
 * INVALID_ARGUMENT naming the field, before any handler looks a row up with it (not INTERNAL).
 */
export function nulGuardInterceptor(): Interceptor {
  return (next) => async (req) => {
    if (!req.stream) {
      const parameter = findNul(req.message);
      if (parameter !== undefined) throw invalidParameter(`${parameter} holds a NUL character`, { parameter });
    }
    return next(req);
  };
}
