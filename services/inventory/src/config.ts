import { hostname } from "node:os";
import { randomUUID } from "node:crypto";
import { ConfigError, parseKeyList, type AesKey } from "@cloudforet/runtime";

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
  /** INVENTORY_PULL_LEASE_MS: how long a replica holds a pull task without renewing (renewed every third of it). */
  pullLeaseMs: number;
  /** INVENTORY_PULL_POLL_MS: how often a replica looks for pull tasks to claim (new jobs of its own wake it at once). */
  pullPollMs: number;
  /**
   * INVENTORY_PLUGIN_MAX_MESSAGE_BYTES: the largest message a collector plugin may send (one Collect
   * item, an Init answer). A larger one is refused when its length prefix arrives and fails that task
   * alone ("resource too large"). Default 4 MiB.
   */
  pluginMaxMessageBytes: number;
  /** INVENTORY_PLUGIN_METADATA_MAX_BYTES: the largest Init metadata stored on a collector (JSON). Default 64 KiB. */
  pluginMetadataMaxBytes: number;
  /**
   * INVENTORY_UPSERT_MAX_MESSAGE_BYTES: the largest BatchUpsert message sent to cloud-service; keep it
   * at most cloud-service's CLOUDFORET_MAX_REQUEST_BYTES (default 4 MiB, as here). Batches are cut to
   * fit; an item that cannot fit alone is one item error and never reaches cloud-service.
   */
  upsertMaxMessageBytes: number;
  /** INVENTORY_JOB_RETENTION_DAYS: finished jobs, their tasks and schedule fires older than this are pruned (default 30). */
  jobRetentionDays: number;
  /** INVENTORY_JOB_PRUNE_INTERVAL_S: how often a replica prunes (one at a time across replicas; default 3600). */
  jobPruneIntervalS: number;
  /**
   * INVENTORY_PLUGIN_IDLE_TIMEOUT_S: a pull task with no report for this long (its plugin stopped
   * answering, the stream still open) fails with the plugin's last error (default 900). Keep it above
   * the time a plugin needs to yield one batch.
   */
  pluginIdleTimeoutS: number;
  /** INVENTORY_PLUGIN_HEALTH_INTERVAL_MS: how often each registered plugin endpoint is health-checked (default 10000). */
  pluginHealthIntervalMs: number;
  /** INVENTORY_ENROLLMENT_POLL_MS: how often PENDING enrollments are looked for (a Create wakes its replica at once, so this only picks up what a stopped replica left; default 30000). */
  enrollmentPollMs: number;
  /** INVENTORY_REPLICA_ID: this replica's name on the leases it holds (default host-pid-random). */
  replicaId: string;
  /**
   * INVENTORY_CREDENTIALS_KEYS parsed (first seals); undefined only in the embedded mode, which uses the
   * key file under the data dir. Required with DATABASE_URL, as NOTIFICATION_CREDENTIALS_KEYS is.
   */
  credentialKeys?: AesKey[];
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
    pullLeaseMs: int("INVENTORY_PULL_LEASE_MS", 15_000, 300, 3_600_000),
    pullPollMs: int("INVENTORY_PULL_POLL_MS", 1000, 20, 60_000),
    pluginMaxMessageBytes: int("INVENTORY_PLUGIN_MAX_MESSAGE_BYTES", 4 * 1024 * 1024, 64 * 1024, 256 * 1024 * 1024),
    pluginMetadataMaxBytes: int("INVENTORY_PLUGIN_METADATA_MAX_BYTES", 64 * 1024, 1024, 4 * 1024 * 1024),
    upsertMaxMessageBytes: int("INVENTORY_UPSERT_MAX_MESSAGE_BYTES", 4 * 1024 * 1024, 64 * 1024, 2 ** 32 - 1),
    jobRetentionDays: int("INVENTORY_JOB_RETENTION_DAYS", 30, 1, 3650),
    jobPruneIntervalS: int("INVENTORY_JOB_PRUNE_INTERVAL_S", 3600, 1, 7 * 24 * 3600),
    pluginIdleTimeoutS: int("INVENTORY_PLUGIN_IDLE_TIMEOUT_S", 900, 1, 7 * 24 * 3600),
    pluginHealthIntervalMs: int("INVENTORY_PLUGIN_HEALTH_INTERVAL_MS", 10_000, 100, 3_600_000),
    enrollmentPollMs: int("INVENTORY_ENROLLMENT_POLL_MS", 30_000, 20, 600_000),
    replicaId: env.INVENTORY_REPLICA_ID || `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`,
    credentialKeys: undefined as AesKey[] | undefined,
  };
  if (!/^[A-Za-z0-9._:-]{1,128}$/.test(config.replicaId)) problems.push(`INVENTORY_REPLICA_ID must be 1 to 128 letters, digits, . _ : or -`);
  if (env.INVENTORY_CREDENTIALS_KEYS) {
    try {
      config.credentialKeys = parseKeyList(env.INVENTORY_CREDENTIALS_KEYS);
    } catch (err) {
      problems.push(`INVENTORY_CREDENTIALS_KEYS ${(err as Error).message}`);
    }
  } else if (env.INVENTORY_DATABASE_URL || env.DATABASE_URL) {
    // A key file under each replica's data dir would give every replica its own key: none could open the others' seals.
    problems.push(
      "INVENTORY_CREDENTIALS_KEYS is required when DATABASE_URL is set: kid:base64key[,kid:base64key...] with 32-byte AES keys, " +
        "the first one sealing collector credentials, the same on every replica (e.g. main:$(openssl rand -base64 32))",
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
