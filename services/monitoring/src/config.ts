import { ConfigError } from "@cloudforet/runtime";

/** Monitoring's own settings (README "Configuration"), read once at start. */
export interface MonitoringConfig {
  /** MONITORING_RETENTION_DAYS (default 30): samples older than this are refused and dropped. */
  retentionDays: number;
  /** MONITORING_RETENTION_SWEEP_SECONDS (default 3600): how often expired day partitions are dropped. */
  sweepIntervalMs: number;
}

/** Reads the variables, reporting every problem at once. */
export function readMonitoringConfig(env: NodeJS.ProcessEnv): MonitoringConfig {
  const problems: string[] = [];
  const retentionDays = boundedInt(env, "MONITORING_RETENTION_DAYS", 30, 1, 36_500, problems);
  const sweepSeconds = boundedInt(env, "MONITORING_RETENTION_SWEEP_SECONDS", 3600, 1, 7 * 86_400, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return { retentionDays, sweepIntervalMs: sweepSeconds * 1000 };
}

function boundedInt(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number, problems: string[]): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) problems.push(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  return value;
}
