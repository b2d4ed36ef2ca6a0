import type { JsonObject } from "@bufbuild/protobuf";
import { invalidParameter } from "@cloudforet/errors";
import type { PrismClientOptions } from "./prism/prism-client";
import { RESOURCE_TYPES } from "./mapping";

/** The collector's options (plugin options, or push settings), validated. */
export interface CollectorSettings {
  /** Overrides the secret's host and port, e.g. "http://127.0.0.1:9440" for the simulator. */
  prismUrl?: string;
  includeResources: Set<string>;
  prism: Omit<PrismClientOptions, "logger" | "signal">;
}

/**
 * Options: `prism_url`, `include_resources` (default all three types), `page_size` (1-500),
 * `timeout_ms`, `retry_max_attempts`, `retry_base_delay_ms`, `breaker_failure_threshold`,
 * `breaker_reset_timeout_ms`.
 */
export function settingsFrom(options: JsonObject): CollectorSettings {
  const int = (key: string, min: number, max: number): number | undefined => {
    const value = options[key];
    if (value === undefined || value === null) return undefined;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw invalidParameter(`${key} must be an integer from ${min} to ${max}`, { parameter: key, value: String(value) });
    return n;
  };
  const include = options.include_resources;
  if (include !== undefined && (!Array.isArray(include) || include.some((t) => !RESOURCE_TYPES.includes(t as never)))) {
    throw invalidParameter(`include_resources must list some of ${RESOURCE_TYPES.join(", ")}`, { parameter: "include_resources", value: JSON.stringify(include) });
  }
  const prismUrl = options.prism_url;
  if (prismUrl !== undefined && typeof prismUrl !== "string") throw invalidParameter("prism_url must be a URL", { parameter: "prism_url" });
  return {
    prismUrl: prismUrl || undefined,
    includeResources: new Set((include as string[] | undefined) ?? RESOURCE_TYPES),
    prism: {
      pageSize: int("page_size", 1, 500),
      timeoutMs: int("timeout_ms", 100, 600_000),
      retry: dropUndefined({ maxAttempts: int("retry_max_attempts", 1, 10), baseDelayMs: int("retry_base_delay_ms", 0, 60_000) }),
      breaker: dropUndefined({ failureThreshold: int("breaker_failure_threshold", 1, 100), resetTimeoutMs: int("breaker_reset_timeout_ms", 100, 3_600_000) }),
    },
  };
}

function dropUndefined<T extends object>(obj: T): Partial<T> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as Partial<T>;
}
