import type { BreakerSettings } from "./handler-breakers";

/** An integer environment variable within bounds, or an error naming it (also used by cluster-nodes.ts). */
export function intFrom(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`${name} must be an integer from ${min} to ${max} (got ${JSON.stringify(raw.slice(0, 32))})`);
  return value;
}

/**
 * The handler breakers' settings: ORCHESTRATION_BREAKER_FAILURE_THRESHOLD (consecutive retryable
 * failures that open a circuit, 1–1000, default 5) and ORCHESTRATION_BREAKER_COOLDOWN_MS (how long
 * it stays open, 100–3600000, default 30000). Read once at start; a bad value stops the start.
 */
export function breakerSettingsFromEnv(env: NodeJS.ProcessEnv): BreakerSettings {
  return {
    failureThreshold: intFrom(env, "ORCHESTRATION_BREAKER_FAILURE_THRESHOLD", 5, 1, 1_000),
    cooldownMs: intFrom(env, "ORCHESTRATION_BREAKER_COOLDOWN_MS", 30_000, 100, 3_600_000),
  };
}
