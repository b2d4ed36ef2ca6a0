import path from "node:path";
import { TrustedProxies } from "./peer-address";

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
  /** Most Postgres connections the service's pool opens (DATABASE_POOL_SIZE, default 10). */
  databasePoolSize: number;
  /** Seconds an idle pooled connection stays open (DATABASE_IDLE_TIMEOUT_SECONDS, default 60). */
  databaseIdleSeconds: number;
  /** Recurring statements run as named prepared statements (DATABASE_PREPARED_STATEMENTS, default true; false behind a transaction-mode pooler). */
  databasePreparedStatements: boolean;
  /** Proxies (CLOUDFORET_TRUSTED_PROXIES) whose X-Forwarded-For names the client, e.g. the console's gateway. */
  trustedProxies: TrustedProxies;
  dataDir: string;
  logLevel: LogLevel;
  /** Largest request body accepted, in bytes (RESOURCE_EXHAUSTED above it). */
  maxRequestBytes: number;
  /** How long SIGTERM waits for in-flight calls before closing connections. */
  shutdownGraceMs: number;
  /** Streams one HTTP/2 connection may have open at once (refused beyond). */
  maxConcurrentStreams: number;
  /** Time a client has to send a request's headers (and a new connection its first bytes). */
  headersTimeoutMs: number;
  /** Time a unary request's body has to arrive in full after its headers. */
  bodyTimeoutMs: number;
  /** An HTTP/1.1 keep-alive socket or an HTTP/2 session with no open stream is closed after this long idle. */
  idleTimeoutMs: number;
}

/** The transport limits of every listener (SPEC: bounded buffering, no connection held forever). */
export type TransportLimits = Pick<ServiceConfig, "maxRequestBytes" | "maxConcurrentStreams" | "headersTimeoutMs" | "bodyTimeoutMs" | "idleTimeoutMs">;

/** The limits when no variable sets them. */
export const defaultTransportLimits: Readonly<TransportLimits> = Object.freeze({
  maxRequestBytes: 4 * 1024 * 1024,
  maxConcurrentStreams: 100,
  headersTimeoutMs: 10_000,
  bodyTimeoutMs: 30_000,
  idleTimeoutMs: 65_000,
});

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
  const limits = readLimits(env, problems);
  const shutdownGraceMs = positiveInt(env, "CLOUDFORET_SHUTDOWN_GRACE_MS", 8_000, problems);
  const databasePoolSize = positiveInt(env, "DATABASE_POOL_SIZE", 10, problems);
  const databaseIdleSeconds = positiveInt(env, "DATABASE_IDLE_TIMEOUT_SECONDS", 60, problems);
  const databasePreparedStatements = booleanVariable(env, "DATABASE_PREPARED_STATEMENTS", true, problems);
  const trustedProxies = readTrustedProxies(env, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    service,
    host,
    port,
    databaseUrl,
    natsUrl,
    dataDir: path.resolve(env.CLOUDFORET_DATA_DIR ?? ".data"),
    logLevel,
    ...limits,
    shutdownGraceMs,
    databasePoolSize,
    databaseIdleSeconds,
    databasePreparedStatements,
    trustedProxies,
  };
}

/** `true`/`false` (also 1/0, yes/no, on/off); anything else is a problem naming the variable. */
function booleanVariable(env: NodeJS.ProcessEnv, name: string, fallback: boolean, problems: string[]): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === "") return fallback;
  if (["true", "1", "yes", "on"].includes(raw)) return true;
  if (["false", "0", "no", "off"].includes(raw)) return false;
  problems.push(`${name} must be true or false, got "${env[name]}"`);
  return fallback;
}

/** CLOUDFORET_TRUSTED_PROXIES: comma-separated addresses or CIDR ranges whose X-Forwarded-For is believed. */
function readTrustedProxies(env: NodeJS.ProcessEnv, problems: string[]): TrustedProxies {
  const entries = (env.CLOUDFORET_TRUSTED_PROXIES ?? "").split(",").map((entry) => entry.trim()).filter(Boolean);
  try {
    return new TrustedProxies(entries);
  } catch (err) {
    problems.push(`CLOUDFORET_TRUSTED_PROXIES: ${(err as Error).message}`);
    return new TrustedProxies();
  }
}

/**
 * The transport limits from CLOUDFORET_MAX_REQUEST_BYTES, CLOUDFORET_MAX_CONCURRENT_STREAMS,
 * CLOUDFORET_HEADERS_TIMEOUT_MS, CLOUDFORET_BODY_TIMEOUT_MS and CLOUDFORET_IDLE_TIMEOUT_MS, for a
 * listener that is not a service's own port (orchestration's REST API); ConfigError when one is bad.
 */
export function readTransportLimits(env: NodeJS.ProcessEnv = process.env): TransportLimits {
  const problems: string[] = [];
  const limits = readLimits(env, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return limits;
}

function readLimits(env: NodeJS.ProcessEnv, problems: string[]): TransportLimits {
  const d = defaultTransportLimits;
  const limits: TransportLimits = {
    // Connect refuses a readMaxBytes above 2^32 - 1.
    maxRequestBytes: positiveInt(env, "CLOUDFORET_MAX_REQUEST_BYTES", d.maxRequestBytes, problems, 2 ** 32 - 1),
    // An HTTP/2 SETTINGS value; Node refuses more than 2^32 - 1.
    maxConcurrentStreams: positiveInt(env, "CLOUDFORET_MAX_CONCURRENT_STREAMS", d.maxConcurrentStreams, problems, 2 ** 32 - 1),
    // Timers hold at most 2^31 - 1 ms (about 24.8 days).
    headersTimeoutMs: positiveInt(env, "CLOUDFORET_HEADERS_TIMEOUT_MS", d.headersTimeoutMs, problems, 2 ** 31 - 1),
    bodyTimeoutMs: positiveInt(env, "CLOUDFORET_BODY_TIMEOUT_MS", d.bodyTimeoutMs, problems, 2 ** 31 - 1),
    idleTimeoutMs: positiveInt(env, "CLOUDFORET_IDLE_TIMEOUT_MS", d.idleTimeoutMs, problems, 2 ** 31 - 1),
  };
  return limits;
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

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number, problems: string[], max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) problems.push(`${name} must be a positive integer, got "${raw}"`);
  else if (value > max) problems.push(`${name} must be at most ${max}, got "${raw}"`);
  return value;
}
