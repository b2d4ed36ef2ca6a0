import { ConfigError, type ServiceConfig } from "@cloudforet/runtime";
import { parseSecretKeys, type SecretKey } from "./crypto/secret-keyring";

/** Identity's own settings (README "Configuration"), read once at start. */
export interface IdentityConfig {
  /** Access token lifetime (IDENTITY_TOKEN_TTL_SECONDS, default 3600). */
  tokenTtlSeconds: number;
  /** Refresh token lifetime (IDENTITY_REFRESH_TTL_SECONDS, default 7 days). */
  refreshTtlSeconds: number;
  /** A service identity's token lifetime (IDENTITY_SERVICE_TOKEN_TTL_SECONDS, default 900). */
  serviceTokenTtlSeconds: number;
  /** Login throttling (auth/login-throttle.ts): free failures per key, then a doubling wait. */
  loginThrottle: {
    /** Failures per account from one address before waits begin (IDENTITY_LOGIN_FREE_ATTEMPTS, default 5). */
    freeAttempts: number;
    /** Failures from one address, any accounts, before waits begin (IDENTITY_LOGIN_ADDRESS_FREE_ATTEMPTS, default 20). */
    addressFreeAttempts: number;
    /** Failures of one account from all addresses before waits begin (IDENTITY_LOGIN_ACCOUNT_FREE_ATTEMPTS, default 100). */
    accountFreeAttempts: number;
    /** The longest wait, in seconds (IDENTITY_LOGIN_BACKOFF_MAX_SECONDS, default 900). */
    backoffMaxSeconds: number;
  };
  /** The bootstrap admin of domain-default (CLOUDFORET_ADMIN_USER, default "admin"). */
  adminUserId: string;
  /** CLOUDFORET_ADMIN_PASSWORD; undefined in embedded mode means "generate one and print it once". */
  adminPassword?: string;
  /** IDENTITY_SECRET_KEYS parsed, first = active; undefined in embedded mode means "use the key file". */
  secretKeys?: SecretKey[];
  /** Request logs (request-logs/): kept this many days (IDENTITY_REQUEST_LOG_RETENTION_DAYS, default 7). */
  requestLogRetentionDays: number;
  /** How often older request logs are deleted (IDENTITY_REQUEST_LOG_PRUNE_INTERVAL_SECONDS, default 3600). */
  requestLogPruneIntervalSeconds: number;
  /** True without DATABASE_URL: PGlite under CLOUDFORET_DATA_DIR. */
  embedded: boolean;
  dataDir: string;
}

const userIdPattern = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$/;

/**
 * Reads identity's variables, reporting every problem at once. Outside the embedded mode the admin
 * password and the secret keys must be given: a production deployment never invents credentials.
 */
export function readIdentityConfig(env: NodeJS.ProcessEnv, service: ServiceConfig): IdentityConfig {
  const problems: string[] = [];
  const embedded = !service.databaseUrl;
  const tokenTtlSeconds = positiveInt(env, "IDENTITY_TOKEN_TTL_SECONDS", 3600, problems);
  const refreshTtlSeconds = positiveInt(env, "IDENTITY_REFRESH_TTL_SECONDS", 7 * 24 * 3600, problems);
  const serviceTokenTtlSeconds = positiveInt(env, "IDENTITY_SERVICE_TOKEN_TTL_SECONDS", 900, problems);
  const requestLogRetentionDays = positiveInt(env, "IDENTITY_REQUEST_LOG_RETENTION_DAYS", 7, problems);
  const requestLogPruneIntervalSeconds = positiveInt(env, "IDENTITY_REQUEST_LOG_PRUNE_INTERVAL_SECONDS", 3600, problems);
  const loginThrottle = {
    freeAttempts: positiveInt(env, "IDENTITY_LOGIN_FREE_ATTEMPTS", 5, problems),
    addressFreeAttempts: positiveInt(env, "IDENTITY_LOGIN_ADDRESS_FREE_ATTEMPTS", 20, problems),
    accountFreeAttempts: positiveInt(env, "IDENTITY_LOGIN_ACCOUNT_FREE_ATTEMPTS", 100, problems),
    backoffMaxSeconds: positiveInt(env, "IDENTITY_LOGIN_BACKOFF_MAX_SECONDS", 900, problems),
  };
  for (const retired of ["IDENTITY_LOGIN_MAX_FAILURES", "IDENTITY_LOGIN_WINDOW_SECONDS"]) {
    // Silently ignoring them would leave an operator believing the old hard lock still applies.
    if (env[retired]) problems.push(`${retired} is no longer read: use IDENTITY_LOGIN_FREE_ATTEMPTS and IDENTITY_LOGIN_BACKOFF_MAX_SECONDS`);
  }

  const adminUserId = env.CLOUDFORET_ADMIN_USER || "admin";
  if (!userIdPattern.test(adminUserId)) {
    problems.push(`CLOUDFORET_ADMIN_USER must be 1-128 letters, digits or . _ @ + - (starting with a letter or digit), got "${adminUserId}"`);
  }
  const adminPassword = env.CLOUDFORET_ADMIN_PASSWORD || undefined;
  if (adminPassword === undefined && !embedded) {
    problems.push("CLOUDFORET_ADMIN_PASSWORD is required when DATABASE_URL is set (the password of the bootstrap admin of domain-default)");
  } else if (adminPassword !== undefined && adminPassword.length < 8) {
    problems.push("CLOUDFORET_ADMIN_PASSWORD must be at least 8 characters");
  }

  let secretKeys: SecretKey[] | undefined;
  if (env.IDENTITY_SECRET_KEYS) {
    try {
      secretKeys = parseSecretKeys(env.IDENTITY_SECRET_KEYS);
    } catch (err) {
      problems.push(`IDENTITY_SECRET_KEYS ${(err as Error).message}`);
    }
  } else if (!embedded) {
    problems.push(
      "IDENTITY_SECRET_KEYS is required when DATABASE_URL is set: kid:base64key[,kid:base64key...] with 32-byte AES keys, " +
        "the first one encrypting new secrets (e.g. main:$(openssl rand -base64 32))",
    );
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    tokenTtlSeconds,
    refreshTtlSeconds,
    serviceTokenTtlSeconds,
    loginThrottle,
    adminUserId,
    adminPassword,
    secretKeys,
    requestLogRetentionDays,
    requestLogPruneIntervalSeconds,
    embedded,
    dataDir: service.dataDir,
  };
}

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number, problems: string[]): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) problems.push(`${name} must be a positive integer, got "${raw}"`);
  return value;
}
