import type { TextMapGetter, TextMapSetter } from "@opentelemetry/api";

/** Reads propagation fields from a fetch `Headers` (Connect's request and response headers). */
export const headerGetter: TextMapGetter<Headers> = {
  keys: (headers) => [...headers.keys()],
  get: (headers, key) => headers.get(key) ?? undefined,
};

export const headerSetter: TextMapSetter<Headers> = {
  set: (headers, key, value) => headers.set(key, value),
};
