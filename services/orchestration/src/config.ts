import { ConfigError } from "@cloudforet/runtime";
import { readRecurrentConfig, type RecurrentConfig } from "./recurrent/recurrent-config";
import { parseDuration } from "./definitions/durations";

/** Orchestration's own settings (the common ones — ADDR, DATABASE_URL, NATS_URL — are the runtime's). */
export interface OrchestrationConfig {
  /** Where the seed's REST API listens (ORCHESTRATION_HTTP_ADDR, default 0.0.0.0:8080; port 0 picks a free one). */
  httpHost: string;
  httpPort: number;
  /** Largest execution context in bytes (ORCHESTRATION_MAX_CONTEXT_BYTES, default 256 KiB); larger → 413. */
  maxContextBytes: number;
  /** Largest output a worker may report for a task (ORCHESTRATION_MAX_OUTPUT_BYTES, default 1 MiB); larger → 413, refused, not stored. */
  maxOutputBytes: number;
  /** Largest REST request body in bytes (CLOUDFORET_MAX_REQUEST_BYTES, default 4 MiB). */
  maxRequestBytes: number;
  /** Poll interval of the scheduler (ORCHESTRATION_TICK_MS, default 200). */
  tickMs: number;
  /** Lease of a claimed instance (ORCHESTRATION_LEASE_MS, default 30000). */
  leaseMs: number;
  /** Instances per claim (ORCHESTRATION_CLAIM_BATCH, default 64). */
  claimBatch: number;
  /**
   * Instances one engine works on at once (ORCHESTRATION_MAX_ACTIVE, default 512). Room for
   * several claim batches, so that under a backlog each claim takes a full batch and the
   * checkpoints of passes ending together share statements: with room for one batch (64), every
   * pass that ended let in a claim of a few instances, and the engine ran at half the database's
   * pace (bench orchestration). Each held instance keeps its context in memory (at most
   * ORCHESTRATION_MAX_CONTEXT_BYTES).
   */
  maxActive: number;
  /** How often the cron ticker looks for due schedules (ORCHESTRATION_CRON_TICK_MS, default 250). */
  cronTickMs: number;
  /** Age after which trigger dedupe records are swept (ORCHESTRATION_DEDUPE_TTL, a duration, default "30d"). */
  dedupeTtlMs: number;
  /** How often the dedupe sweeper runs (ORCHESTRATION_DEDUPE_SWEEP_MS, default 3600000; also once at start). */
  dedupeSweepMs: number;
  /** A claimed worker task without a heartbeat for this long goes back to the queue (ORCHESTRATION_WORKER_HEARTBEAT_TIMEOUT_MS, default 60000). */
  workerHeartbeatTimeoutMs: number;
  /** Whether this process runs the scheduler (ORCHESTRATION_ENGINE=off serves the APIs only). */
  engineEnabled: boolean;
  /** OpenAI-compatible base URL for llm_call (ORCHESTRATION_LLM_URL) and its key (ORCHESTRATION_LLM_API_KEY). */
  llmUrl?: string;
  llmApiKey?: string;
  /** Tool service for tool_call (ORCHESTRATION_TOOL_URL). */
  toolUrl?: string;
  /** Recurrent requests: CLOUDFORET_<SERVICE>_URL for rpc targets, ORCHESTRATION_CREDENTIALS_KEYS for sealing. */
  recurrent: RecurrentConfig;
  /** How often a Watch stream re-reads the database for changes no notification reported (ORCHESTRATION_WATCH_REREAD_MS, default 1000). */
  watchRereadMs: number;
}

export function readOrchestrationConfig(env: NodeJS.ProcessEnv): OrchestrationConfig {
  const problems: string[] = [];
  const int = (name: string, fallback: number, min: number) => {
    const raw = env[name];
    if (raw === undefined || raw === "") return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min) problems.push(`${name} must be an integer ≥ ${min}, got "${raw}"`);
    return value;
  };
  const url = (name: string) => {
    const raw = env[name];
    if (!raw) return undefined;
    try {
      const parsed = new URL(raw);
      if (parsed.protocol !== "http:" && parsed.protocol !== "https:") problems.push(`${name} must be an http(s) URL, got "${raw}"`);
    } catch {
      problems.push(`${name} is not a URL: "${raw}"`);
    }
    return raw;
  };
  const duration = (name: string, fallback: string) => {
    const raw = env[name] || fallback;
    const ms = parseDuration(raw);
    if (ms === undefined || ms < 1) problems.push(`${name} must be a duration such as "30d", "12h" or "90s", got "${raw}"`);
    return ms ?? 0;
  };
  const addr = env.ORCHESTRATION_HTTP_ADDR ?? "0.0.0.0:8080";
  const match = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(addr.trim());
  if (!match || Number(match[2]) > 65535) problems.push(`ORCHESTRATION_HTTP_ADDR must be host:port (e.g. 0.0.0.0:8080), got "${addr}"`);
  const engine = (env.ORCHESTRATION_ENGINE ?? "on").toLowerCase();
  if (!["on", "off", "true", "false", "1", "0"].includes(engine)) problems.push(`ORCHESTRATION_ENGINE must be on or off, got "${env.ORCHESTRATION_ENGINE}"`);
  const config: OrchestrationConfig = {
    httpHost: match ? match[1].replace(/^\[|\]$/g, "") : "0.0.0.0",
    httpPort: match ? Number(match[2]) : 8080,
    maxContextBytes: int("ORCHESTRATION_MAX_CONTEXT_BYTES", 256 * 1024, 1),
    maxOutputBytes: int("ORCHESTRATION_MAX_OUTPUT_BYTES", 1024 * 1024, 1),
    maxRequestBytes: int("CLOUDFORET_MAX_REQUEST_BYTES", 4 * 1024 * 1024, 1),
    tickMs: int("ORCHESTRATION_TICK_MS", 200, 1),
    leaseMs: int("ORCHESTRATION_LEASE_MS", 30_000, 100),
    claimBatch: int("ORCHESTRATION_CLAIM_BATCH", 64, 1),
    maxActive: int("ORCHESTRATION_MAX_ACTIVE", 512, 1),
    cronTickMs: int("ORCHESTRATION_CRON_TICK_MS", 250, 10),
    dedupeTtlMs: duration("ORCHESTRATION_DEDUPE_TTL", "30d"),
    dedupeSweepMs: int("ORCHESTRATION_DEDUPE_SWEEP_MS", 3_600_000, 10),
    workerHeartbeatTimeoutMs: int("ORCHESTRATION_WORKER_HEARTBEAT_TIMEOUT_MS", 60_000, 100),
    engineEnabled: ["on", "true", "1"].includes(engine),
    llmUrl: url("ORCHESTRATION_LLM_URL"),
    llmApiKey: env.ORCHESTRATION_LLM_API_KEY || undefined,
    toolUrl: url("ORCHESTRATION_TOOL_URL"),
    recurrent: readRecurrentConfig(env, problems),
    watchRereadMs: int("ORCHESTRATION_WATCH_REREAD_MS", 1_000, 10),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
