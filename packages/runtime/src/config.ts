import path from "node:path";

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
const logLevels: LogLevel[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

/** LOG_LEVEL when it names a level, else "info" (for logging the very error that it is wrong). */
export function logLevelOrDefault(env: NodeJS.ProcessEnv = process.env): LogLevel {
  const level = (env.LOG_LEVEL ?? "info").toLowerCase() as LogLevel;
  return logLevels.includes(level) ? level : "info";
}

export interface ServiceConfig {
  service: string;
  host: string;
  port: number;
  /** Postgres URL; undefined selects the embedded PGlite database under dataDir. */
  databaseUrl?: string;
  /** NATS URL; undefined selects the in-process bus. */
  natsUrl?: string;
  dataDir: string;
  logLevel: LogLevel;
  /** Largest request body accepted, in bytes (RESOURCE_EXHAUSTED above it). */
  maxRequestBytes: number;
  /** How long SIGTERM waits for in-flight calls before closing connections. */
  shutdownGraceMs: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
  }
}

/** `cloud-service` → `CLOUD_SERVICE`, the prefix of its variables. */
export const envPrefix = (service: string) => service.toUpperCase().replace(/-/g, "_");

/**
 * Reads one service's configuration from the environment (SPEC §2), reporting every problem at
 * once with the variable's name, so a bad deployment fails at start with one clear message.
 */
export function readServiceConfig(service: string, defaultPort: number, env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const prefix = envPrefix(service);
  const problems: string[] = [];
  const addrVar = `${prefix}_ADDR`;
  const [host, port] = parseAddr(env[addrVar] ?? `0.0.0.0:${defaultPort}`, addrVar, problems);
  const databaseUrl = optionalUrl(env, [`${prefix}_DATABASE_URL`, "DATABASE_URL"], ["postgres:", "postgresql:"], problems);
  const natsUrl = optionalUrl(env, ["NATS_URL"], ["nats:", "tls:", "ws:", "wss:"], problems);
  const logLevel = (env.LOG_LEVEL ?? "info").toLowerCase() as LogLevel;
  if (!logLevels.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${logLevels.join(", ")}, got "${env.LOG_LEVEL}"`);
  const maxRequestBytes = positiveInt(env, "CLOUDFORET_MAX_REQUEST_BYTES", 4 * 1024 * 1024, problems);
  const shutdownGraceMs = positiveInt(env, "CLOUDFORET_SHUTDOWN_GRACE_MS", 8_000, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    service,
    host,
    port,
    databaseUrl,
    natsUrl,
    dataDir: path.resolve(env.CLOUDFORET_DATA_DIR ?? ".data"),
    logLevel,
    maxRequestBytes,
    shutdownGraceMs,
  };
}

function parseAddr(value: string, name: string, problems: string[]): [string, number] {
  const match = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.\-]+):(\d{1,5})$/.exec(value.trim());
  const port = match ? Number(match[2]) : NaN;
  if (!match || port > 65535) {
    problems.push(`${name} must be host:port (e.g. 0.0.0.0:50052), got "${value}"`);
    return ["0.0.0.0", 0];
  }
  return [match[1].replace(/^\[|\]$/g, ""), port];
}

function optionalUrl(env: NodeJS.ProcessEnv, names: string[], protocols: string[], problems: string[]): string | undefined {
  const name = names.find((n) => env[n]);
  if (!name) return undefined;
  const value = env[name] as string;
  try {
    const url = new URL(value);
    if (!protocols.includes(url.protocol)) problems.push(`${name} must use ${protocols.join(" or ")}, got "${url.protocol}"`);
  } catch {
    problems.push(`${name} is not a URL: "${value}"`);
  }
  return value;
}

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number, problems: string[]): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) problems.push(`${name} must be a positive integer, got "${raw}"`);
  return value;
}
