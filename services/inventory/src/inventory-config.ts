import { ConfigError } from "@cloudforet/runtime";

export interface InventoryConfig {
  /** IDENTITY_URL: service accounts, secrets and workspaces are checked there, as the caller. */
  identityUrl: string;
  /** CLOUD_SERVICE_URL: where pull collection writes resources. */
  cloudServiceUrl: string;
  /** INVENTORY_DEFAULT_JOB_TIMEOUT_S: a job's timeout when its options give none. */
  defaultJobTimeoutS: number;
  /** INVENTORY_TIMEOUT_SWEEP_INTERVAL_MS: how often jobs past their timeout are ended. */
  timeoutSweepIntervalMs: number;
  /** INVENTORY_PULL_CONCURRENCY: tasks of one job collected at the same time. */
  pullConcurrency: number;
}

/** Inventory's own settings, validated at start with one message naming every bad variable. */
export function readInventoryConfig(env: NodeJS.ProcessEnv): InventoryConfig {
  const problems: string[] = [];
  const url = (name: string, fallback: string) => {
    const value = env[name] || fallback;
    try {
      const parsed = new URL(value);
      if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new Error();
    } catch {
      problems.push(`${name} must be an http(s) URL, got "${value}"`);
    }
    return value.replace(/\/+$/, "");
  };
  const int = (name: string, fallback: number, min: number, max: number) => {
    const raw = env[name];
    if (raw === undefined || raw === "") return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) problems.push(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
    return value;
  };
  const config = {
    identityUrl: url("IDENTITY_URL", "http://127.0.0.1:50051"),
    cloudServiceUrl: url("CLOUD_SERVICE_URL", "http://127.0.0.1:50053"),
    defaultJobTimeoutS: int("INVENTORY_DEFAULT_JOB_TIMEOUT_S", 3600, 1, 7 * 24 * 3600),
    timeoutSweepIntervalMs: int("INVENTORY_TIMEOUT_SWEEP_INTERVAL_MS", 5000, 50, 3_600_000),
    pullConcurrency: int("INVENTORY_PULL_CONCURRENCY", 4, 1, 64),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
