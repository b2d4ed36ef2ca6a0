import { ConfigError } from "@cloudforet/runtime";

/** Cost's own settings, read once at start. */
export interface CostConfig {
  /**
   * COST_IDEMPOTENCY_WINDOW_HOURS (default 24): how long a BatchCreate idempotency key is remembered;
   * a retry within it replays the first batch's answer and stores nothing.
   */
  idempotencyWindowHours: number;
}

/** Reads the variables, reporting every problem at once. */
export function readCostConfig(env: NodeJS.ProcessEnv): CostConfig {
  const problems: string[] = [];
  const idempotencyWindowHours = boundedInt(env, "COST_IDEMPOTENCY_WINDOW_HOURS", 24, 1, 24 * 366, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return { idempotencyWindowHours };
}

function boundedInt(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number, problems: string[]): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) problems.push(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  return value;
}
