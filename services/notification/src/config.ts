import { ConfigError, type ServiceConfig } from "@cloudforet/runtime";
import { parseCredentialKeys, type CredentialKey } from "./channels/credential-sealer";

/** The notification service's own settings (README "Configuration"), read once at start. */
export interface NotificationConfig {
  /** Where identity (SecretService) answers: IDENTITY_URL, default http://127.0.0.1:50051. */
  identityUrl: string;
  /** Attempts per channel before a delivery is marked failed (NOTIFICATION_MAX_ATTEMPTS, default 5). */
  maxAttempts: number;
  /** Delay before the 2nd attempt; doubles each time (NOTIFICATION_RETRY_BASE_MS, default 1000). */
  retryBaseMs: number;
  /** Cap of the retry delay (NOTIFICATION_RETRY_MAX_MS, default 300000). */
  retryMaxMs: number;
  /** Consecutive transient failures that open an endpoint's breaker (NOTIFICATION_BREAKER_FAILURES, default 5). */
  breakerFailures: number;
  /** How long an open breaker fails fast before one probe (NOTIFICATION_BREAKER_RESET_MS, default 30000). */
  breakerResetMs: number;
  /** Deliveries in flight per process (NOTIFICATION_DELIVERY_CONCURRENCY, default 16). */
  deliveryConcurrency: number;
  /** Deliveries in flight per endpoint, so a slow one cannot take every slot (NOTIFICATION_ENDPOINT_CONCURRENCY, default 4). */
  endpointConcurrency: number;
  /** Deadline of one HTTP or SMTP attempt (NOTIFICATION_DELIVERY_TIMEOUT_MS, default 10000). */
  deliveryTimeoutMs: number;
  /**
   * Longest the worker sleeps without a wake-up when it cannot LISTEN for new deliveries (embedded
   * PGlite, or while its LISTEN connection is down), or while rows wait for a busy endpoint
   * (NOTIFICATION_POLL_MS, default 1000).
   */
  pollMs: number;
  /**
   * Longest an idle worker sleeps while it LISTENs (NOTIFICATION_IDLE_POLL_MS, default 30000): new
   * deliveries NOTIFY it on commit and known ones wake it when due, so this is only a safety net.
   */
  idlePollMs: number;
  /**
   * How long a claimed delivery is held before another replica may take it (NOTIFICATION_DELIVERY_LEASE_MS,
   * default 60000). The worker renews it while the attempt runs and sends only while it holds it, so
   * it bounds how long a crashed or stalled worker keeps a delivery (and its endpoint slot).
   */
  leaseMs: number;
  /**
   * NOTIFICATION_CREDENTIALS_KEYS parsed (first seals); undefined only in the embedded mode, which uses
   * a key file under the data dir. Required with DATABASE_URL: replicas each generating a key could
   * not open one another's sealed channels.
   */
  credentialKeys?: CredentialKey[];
  /** Age after which a Send by a signed-in caller re-reads a channel's secret (NOTIFICATION_CREDENTIALS_REFRESH_MS, default 300000). */
  credentialsRefreshMs: number;
  dataDir: string;
}

/** Reads the variables, reporting every problem at once. */
export function readNotificationConfig(env: NodeJS.ProcessEnv, service: ServiceConfig): NotificationConfig {
  const problems: string[] = [];
  const int = (name: string, fallback: number, min = 1) => integer(env, name, fallback, min, problems);
  let identityUrl = env.IDENTITY_URL || "http://127.0.0.1:50051";
  try {
    const parsed = new URL(identityUrl);
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new Error("protocol");
  } catch {
    problems.push(`IDENTITY_URL must be an http(s) URL, got "${identityUrl}"`);
    identityUrl = "http://127.0.0.1:50051";
  }
  let credentialKeys: CredentialKey[] | undefined;
  if (env.NOTIFICATION_CREDENTIALS_KEYS) {
    try {
      credentialKeys = parseCredentialKeys(env.NOTIFICATION_CREDENTIALS_KEYS);
    } catch (err) {
      problems.push(`NOTIFICATION_CREDENTIALS_KEYS ${(err as Error).message}`);
    }
  } else if (service.databaseUrl) {
    problems.push(
      "NOTIFICATION_CREDENTIALS_KEYS is required when DATABASE_URL is set: kid:base64key[,kid:base64key...] with 32-byte AES keys, " +
        "the first one sealing channel credentials, the same on every replica (e.g. main:$(openssl rand -base64 32))",
    );
  }
  const config: NotificationConfig = {
    identityUrl,
    maxAttempts: int("NOTIFICATION_MAX_ATTEMPTS", 5),
    retryBaseMs: int("NOTIFICATION_RETRY_BASE_MS", 1000, 0),
    retryMaxMs: int("NOTIFICATION_RETRY_MAX_MS", 300_000, 0),
    breakerFailures: int("NOTIFICATION_BREAKER_FAILURES", 5),
    breakerResetMs: int("NOTIFICATION_BREAKER_RESET_MS", 30_000),
    deliveryConcurrency: int("NOTIFICATION_DELIVERY_CONCURRENCY", 16),
    endpointConcurrency: int("NOTIFICATION_ENDPOINT_CONCURRENCY", 4),
    deliveryTimeoutMs: int("NOTIFICATION_DELIVERY_TIMEOUT_MS", 10_000),
    pollMs: int("NOTIFICATION_POLL_MS", 1000),
    idlePollMs: int("NOTIFICATION_IDLE_POLL_MS", 30_000),
    leaseMs: int("NOTIFICATION_DELIVERY_LEASE_MS", 60_000, 100),
    credentialKeys,
    credentialsRefreshMs: int("NOTIFICATION_CREDENTIALS_REFRESH_MS", 300_000, 0),
    dataDir: service.dataDir,
  };
  if (config.retryMaxMs < config.retryBaseMs) problems.push("NOTIFICATION_RETRY_MAX_MS must not be below NOTIFICATION_RETRY_BASE_MS");
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, problems: string[]): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min) {
    problems.push(`${name} must be an integer ≥ ${min}, got "${raw}"`);
    return fallback;
  }
  return value;
}
