import { ConfigError } from "@cloudforet/runtime";

/** cloud-service's own settings, read once at start. */
export interface CloudServiceConfig {
  /** IDENTITY_URL: projects are looked up there, as the caller (default http://127.0.0.1:50051). */
  identityUrl: string;
  /** INVENTORY_URL: collector rules of push collections are read there, as the caller (default http://127.0.0.1:50052). */
  inventoryUrl: string;
  /** CLOUD_SERVICE_HISTORY_RETENTION_DAYS (default 90): change history older than this is pruned. */
  historyRetentionDays: number;
  /** CLOUD_SERVICE_HISTORY_SWEEP_SECONDS (default 3600): how long the retention sweeper sleeps between passes. */
  historySweepIntervalMs: number;
}

export function readCloudServiceConfig(env: NodeJS.ProcessEnv): CloudServiceConfig {
  const problems: string[] = [];
  const historyRetentionDays = wholeNumber(env, "CLOUD_SERVICE_HISTORY_RETENTION_DAYS", 90, 1, 36_500, problems);
  const sweepSeconds = wholeNumber(env, "CLOUD_SERVICE_HISTORY_SWEEP_SECONDS", 3600, 1, 7 * 86_400, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return { identityUrl: env.IDENTITY_URL ?? "http://127.0.0.1:50051", inventoryUrl: env.INVENTORY_URL ?? "http://127.0.0.1:50052", historyRetentionDays, historySweepIntervalMs: sweepSeconds * 1000 };
}

function wholeNumber(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number, problems: string[]): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    problems.push(`${name} must be a whole number from ${min} to ${max} (got ${JSON.stringify(raw.slice(0, 40))})`);
    return fallback;
  }
  return value;
}
