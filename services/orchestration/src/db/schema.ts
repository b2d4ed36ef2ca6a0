// Over 300 lines on purpose: every table of the orchestration schema in one file (STYLE: db/schema.ts).
import { sql } from "drizzle-orm";
import { bigint, boolean, index, integer, jsonb, pgSchema, primaryKey, smallint, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { outboxTable } from "@cloudforet/events";
import type { Block } from "../definitions/blocks";
import type { ExecutionState } from "../engine/execution-state";

export const orchestrationSchema = pgSchema("orchestration");

/** Events written in the same transaction as the change, relayed to NATS (SPEC §9). */
export const outbox = outboxTable(orchestrationSchema);

type Json = Record<string, unknown>;
const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();

/** Versioned workflow definitions; immutable once stored. */
export const sequences = orchestrationSchema.table(
  "sequences",
  {
    id: uuid("id").primaryKey(),
    domainId: text("domain_id").notNull(),
    tenantId: text("tenant_id").notNull(),
    namespace: text("namespace").notNull(),
    name: text("name").notNull(),
    version: integer("version").notNull(),
    blocks: jsonb("blocks").$type<Block[]>().notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("sequences_name_version_idx").on(t.domainId, t.tenantId, t.namespace, t.name, t.version)],
);

/**
 * Executions of sequences. The scheduler claims due rows (`next_fire_at <= now()`, unlocked) with
 * FOR UPDATE SKIP LOCKED and holds them by a lease (`locked_by`, `lease_expires_at`) it renews;
 * `execution` is the persisted execution tree, `kv` the instance-scoped state of set_state & co.
 * `needs_attention` says a signal or a worker result arrived that the engine has not absorbed.
 */
export const instances = orchestrationSchema.table(
  "instances",
  {
    id: uuid("id").primaryKey(),
    sequenceId: uuid("sequence_id").notNull(),
    domainId: text("domain_id").notNull(),
    tenantId: text("tenant_id").notNull(),
    namespace: text("namespace").notNull(),
    state: text("state").notNull(),
    nextFireAt: timestamp("next_fire_at", { withTimezone: true }),
    priority: text("priority").notNull().default("normal"),
    /** low 0, normal 1, high 2, critical 3: the claim order. */
    priorityRank: smallint("priority_rank").notNull().default(1),
    timezone: text("timezone").notNull().default("UTC"),
    metadata: jsonb("metadata").$type<Json>().notNull().default({}),
    context: jsonb("context").$type<Json>().notNull().default({}),
    execution: jsonb("execution").$type<ExecutionState>().notNull().default({ nodes: {}, seq: 0 }),
    kv: jsonb("kv").$type<Json>().notNull().default({}),
    concurrencyKey: text("concurrency_key"),
    maxConcurrency: integer("max_concurrency"),
    idempotencyKey: text("idempotency_key"),
    lockedBy: text("locked_by"),
    leaseExpiresAt: timestamp("lease_expires_at", { withTimezone: true }),
    needsAttention: boolean("needs_attention").notNull().default(false),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("instances_idempotency_idx").on(t.domainId, t.tenantId, t.idempotencyKey).where(sql`idempotency_key is not null`),
    index("instances_due_idx")
      .on(t.priorityRank.desc(), t.nextFireAt)
      .where(sql`locked_by is null and state in ('scheduled', 'waiting', 'paused')`),
    // The fair claim's per-tenant lookups (migration 0003).
    index("instances_tenant_due_idx")
      .on(t.domainId, t.tenantId, t.priorityRank.desc(), t.nextFireAt)
      .where(sql`locked_by is null and state in ('scheduled', 'waiting', 'paused')`),
    index("instances_leases_idx").on(t.leaseExpiresAt).where(sql`locked_by is not null`),
    index("instances_unheld_running_idx").on(t.updatedAt).where(sql`locked_by is null and state = 'running'`),
    index("instances_tenant_created_idx").on(t.domainId, t.tenantId, t.namespace, t.createdAt),
    index("instances_sequence_idx").on(t.sequenceId),
    index("instances_failed_idx").on(t.domainId, t.tenantId, t.updatedAt).where(sql`state = 'failed'`),
  ],
);

/** The output of every completed step (seed 002 "Get Outputs"). */
export const blockOutputs = orchestrationSchema.table(
  "block_outputs",
  {
    id: uuid("id").primaryKey(),
    /** Insertion order: ties of created_at (outputs of one checkpoint) keep the order steps finished in. */
    seq: bigint("seq", { mode: "number" }).generatedAlwaysAsIdentity(),
    instanceId: uuid("instance_id").notNull(),
    blockId: text("block_id").notNull(),
    output: jsonb("output").$type<Json>(),
    outputRef: text("output_ref"),
    outputSize: integer("output_size").notNull(),
    attempt: integer("attempt").notNull().default(0),
    createdAt: createdAt(),
  },
  (t) => [index("block_outputs_instance_idx").on(t.instanceId, t.createdAt, t.seq)],
);

/** Signals in arrival order (`seq`); the engine applies each once and marks it processed. */
export const signals = orchestrationSchema.table(
  "signals",
  {
    id: uuid("id").primaryKey(),
    seq: bigint("seq", { mode: "number" }).generatedAlwaysAsIdentity(),
    instanceId: uuid("instance_id").notNull(),
    signalType: text("signal_type").notNull(),
    payload: jsonb("payload"),
    processed: boolean("processed").notNull().default(false),
    createdAt: createdAt(),
    processedAt: timestamp("processed_at", { withTimezone: true }),
  },
  (t) => [index("signals_pending_idx").on(t.instanceId, t.seq).where(sql`not processed`)],
);

/** Steps whose handler is not built in, waiting for an external worker (seed 002 "External Workers"). */
export const workerTasks = orchestrationSchema.table(
  "worker_tasks",
  {
    id: uuid("id").primaryKey(),
    instanceId: uuid("instance_id").notNull(),
    blockId: text("block_id").notNull(),
    /** The execution-tree node the task belongs to (block id within its loop iteration). */
    nodeKey: text("node_key").notNull(),
    handlerName: text("handler_name").notNull(),
    params: jsonb("params").$type<Json>().notNull(),
    context: jsonb("context").$type<Json>().notNull(),
    attempt: integer("attempt").notNull().default(0),
    timeoutMs: integer("timeout_ms").notNull().default(0),
    state: text("state").notNull().default("pending"),
    workerId: text("worker_id"),
    claimedAt: timestamp("claimed_at", { withTimezone: true }),
    heartbeatAt: timestamp("heartbeat_at", { withTimezone: true }),
    completedAt: timestamp("completed_at", { withTimezone: true }),
    output: jsonb("output").$type<Json>(),
    errorMessage: text("error_message"),
    errorRetryable: boolean("error_retryable"),
    createdAt: createdAt(),
    /** Incremented by every claim: a report carrying an older epoch comes from a claim the reaper took back. */
    claimEpoch: integer("claim_epoch").notNull().default(0),
    /** The step's queue_name: only workers polling that queue claim it (null: the default queue). */
    queueName: text("queue_name"),
  },
  (t) => [
    index("worker_tasks_pending_idx").on(t.handlerName, t.createdAt).where(sql`state = 'pending'`),
    index("worker_tasks_instance_idx").on(t.instanceId),
    /** The reaper's scan: claimed tasks by last heartbeat. */
    index("worker_tasks_claimed_heartbeat_idx").on(t.heartbeatAt).where(sql`state = 'claimed'`),
  ],
);

/** Event triggers by slug, unique per tenant (TriggerService CRUD; webhooks and emit_event fire them). */
export const triggers = orchestrationSchema.table(
  "triggers",
  {
    domainId: text("domain_id").notNull(),
    tenantId: text("tenant_id").notNull(),
    slug: text("slug").notNull(),
    namespace: text("namespace").notNull(),
    sequenceId: uuid("sequence_id"),
    sequenceName: text("sequence_name").notNull(),
    enabled: boolean("enabled").notNull().default(true),
    triggerType: text("trigger_type").notNull().default("event"),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.domainId, t.tenantId, t.slug] })],
);

/**
 * One row per deduplicated fire: scope "parent" keys on the parent instance id, "tenant" on the
 * tenant id. Swept after 30 days.
 */
export const triggerDedupe = orchestrationSchema.table(
  "trigger_dedupe",
  {
    scope: text("scope").notNull(),
    scopeKey: text("scope_key").notNull(),
    dedupeKey: text("dedupe_key").notNull(),
    instanceId: uuid("instance_id").notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.scope, t.scopeKey, t.dedupeKey] }), index("trigger_dedupe_created_idx").on(t.createdAt)],
);

/**
 * Cron schedules (seed 002 "Cron Schedules"): each fire creates one instance of the sequence. The
 * cron ticker claims due rows (`enabled`, `next_fire_at <= now`) with FOR UPDATE SKIP LOCKED and,
 * in the same transaction, creates the instance and advances `next_fire_at`.
 */
export const cronSchedules = orchestrationSchema.table(
  "cron_schedules",
  {
    id: uuid("id").primaryKey(),
    domainId: text("domain_id").notNull(),
    tenantId: text("tenant_id").notNull(),
    namespace: text("namespace").notNull(),
    sequenceId: uuid("sequence_id").notNull(),
    cronExpr: text("cron_expr").notNull(),
    timezone: text("timezone").notNull().default("UTC"),
    metadata: jsonb("metadata").$type<Json>().notNull().default({}),
    enabled: boolean("enabled").notNull().default(true),
    /** Null when the expression never fires again (its years are past). */
    nextFireAt: timestamp("next_fire_at", { withTimezone: true }),
    lastTriggeredAt: timestamp("last_triggered_at", { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("cron_schedules_due_idx").on(t.nextFireAt).where(sql`enabled and next_fire_at is not null`),
    index("cron_schedules_tenant_idx").on(t.domainId, t.tenantId, t.createdAt),
  ],
);

export type SequenceRow = typeof sequences.$inferSelect;
export type InstanceRow = typeof instances.$inferSelect;
export type BlockOutputRow = typeof blockOutputs.$inferSelect;
export type SignalRow = typeof signals.$inferSelect;
export type WorkerTaskRow = typeof workerTasks.$inferSelect;
export type TriggerRow = typeof triggers.$inferSelect;
export type CronScheduleRow = typeof cronSchedules.$inferSelect;

/**
 * Concurrency slots (seed 002 `concurrency_key` / `max_concurrency`): a row per instance holding a
 * slot of its (tenant, key), taken at its first claim and deleted in the transaction that makes it
 * terminal. Grants are serialized per key by a transaction-scoped advisory lock (src/flow).
 */
export const concurrencySlots = orchestrationSchema.table(
  "concurrency_slots",
  {
    instanceId: uuid("instance_id").primaryKey(),
    domainId: text("domain_id").notNull(),
    tenantId: text("tenant_id").notNull(),
    concurrencyKey: text("concurrency_key").notNull(),
    acquiredAt: timestamp("acquired_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("concurrency_slots_key_idx").on(t.domainId, t.tenantId, t.concurrencyKey)],
);

/**
 * Instances waiting for a slot of their (tenant, key): parked (scheduled, `next_fire_at` null) so
 * the claimer never sees them, and made due again — at their original fire time, so they keep
 * their place in line — when a holder of the key ends.
 */
export const concurrencyWaiters = orchestrationSchema.table(
  "concurrency_waiters",
  {
    instanceId: uuid("instance_id").primaryKey(),
    domainId: text("domain_id").notNull(),
    tenantId: text("tenant_id").notNull(),
    concurrencyKey: text("concurrency_key").notNull(),
    maxConcurrency: integer("max_concurrency").notNull(),
    priorityRank: smallint("priority_rank").notNull(),
    fireAt: timestamp("fire_at", { withTimezone: true }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [index("concurrency_waiters_key_idx").on(t.domainId, t.tenantId, t.concurrencyKey, t.priorityRank.desc(), t.fireAt)],
);

/**
 * Fixed-window rate limits per (tenant, key), for steps naming a `rate_limit_key`. The counter of
 * the current window lives on the row (`window_start` in epoch ms, `used`), so admitting a step is
 * one guarded UPDATE. A key without a row is unlimited.
 */
export const rateLimits = orchestrationSchema.table(
  "rate_limits",
  {
    domainId: text("domain_id").notNull(),
    tenantId: text("tenant_id").notNull(),
    key: text("key").notNull(),
    maxCount: integer("max_count").notNull(),
    windowMs: bigint("window_ms", { mode: "number" }).notNull(),
    windowStart: bigint("window_start", { mode: "number" }).notNull().default(0),
    used: integer("used").notNull().default(0),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.domainId, t.tenantId, t.key] })],
);

export type RateLimitRow = typeof rateLimits.$inferSelect;

/**
 * Tenant grants (migration 0005): an API key with rows here may act only in these Orch8 tenants of
 * its domain; a key without rows is not limited. Managed by DOMAIN_ADMIN over REST /tenant-grants.
 */
export const tenantGrants = orchestrationSchema.table(
  "tenant_grants",
  {
    domainId: text("domain_id").notNull(),
    apiKeyId: text("api_key_id").notNull(),
    tenantId: text("tenant_id").notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.domainId, t.apiKeyId, t.tenantId] })],
);

export type TenantGrantRow = typeof tenantGrants.$inferSelect;

/**
 * Recurrent requests: a call to a URL or a platform RPC at an interval or cron schedule. The
 * recurrent ticker claims due active rows with FOR UPDATE SKIP LOCKED and, in the same transaction,
 * creates the instance of the tenant's built-in sequence and advances `next_run_at`. `target` holds
 * no secrets; credential headers are in `sealed_credentials` (AES-256-GCM, bound to the row id).
 */
export const recurrentRequests = orchestrationSchema.table(
  "recurrent_requests",
  {
    id: uuid("id").primaryKey(),
    domainId: text("domain_id").notNull(),
    tenantId: text("tenant_id").notNull(),
    name: text("name").notNull(),
    status: text("status").notNull().default("active"),
    scheduleType: text("schedule_type").notNull(),
    intervalSeconds: integer("interval_seconds"),
    cronExpression: text("cron_expression"),
    timezone: text("timezone").notNull().default("UTC"),
    target: jsonb("target").$type<Json>().notNull(),
    sealedCredentials: text("sealed_credentials"),
    /** Null when paused or when a cron expression never fires again. */
    nextRunAt: timestamp("next_run_at", { withTimezone: true }),
    lastRunAt: timestamp("last_run_at", { withTimezone: true }),
    lastInstanceId: uuid("last_instance_id"),
    runCount: integer("run_count").notNull().default(0),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("recurrent_requests_due_idx").on(t.nextRunAt).where(sql`status = 'active' and next_run_at is not null`),
    index("recurrent_requests_tenant_idx").on(t.domainId, t.tenantId, t.createdAt),
  ],
);

export type RecurrentRequestRow = typeof recurrentRequests.$inferSelect;

// ---- Engine features beyond seed 002 (migration 0006): webhooks, cluster nodes, sessions, credentials.

/** A tenant's outgoing webhook: instance events matching `event_types` (all when empty) are POSTed to `url`. */
export const webhookSubscriptions = orchestrationSchema.table(
  "webhook_subscriptions",
  {
    id: uuid("id").primaryKey(),
    domainId: text("domain_id").notNull(),
    tenantId: text("tenant_id").notNull(),
    url: text("url").notNull(),
    eventTypes: jsonb("event_types").$type<string[]>().notNull().default([]),
    /** The HMAC signing secret, sealed with ORCHESTRATION_CREDENTIALS_KEYS (never returned). */
    sealedSecret: text("sealed_secret"),
    enabled: boolean("enabled").notNull().default(true),
    description: text("description"),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("webhook_subscriptions_owner_idx").on(t.domainId, t.tenantId, t.createdAt)],
);

export type WebhookSubscriptionRow = typeof webhookSubscriptions.$inferSelect;

/**
 * One event to deliver to one subscription: claimed with SKIP LOCKED, retried with backoff until
 * delivered or failed. Inserted by the trigger instances_queue_webhooks (migration 0008) in the
 * statement that changes an instance's state, so a delivery commits (or rolls back) with its change.
 */
export const webhookDeliveries = orchestrationSchema.table(
  "webhook_deliveries",
  {
    id: uuid("id").primaryKey(),
    subscriptionId: uuid("subscription_id").notNull(),
    domainId: text("domain_id").notNull(),
    tenantId: text("tenant_id").notNull(),
    eventType: text("event_type").notNull(),
    instanceId: uuid("instance_id"),
    payload: jsonb("payload").$type<Json>().notNull(),
    /** pending, delivered, failed */
    status: text("status").notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true }).notNull().defaultNow(),
    claimedUntil: timestamp("claimed_until", { withTimezone: true }),
    lastStatusCode: integer("last_status_code"),
    lastError: text("last_error"),
    deliveredAt: timestamp("delivered_at", { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    index("webhook_deliveries_due_idx").on(t.nextAttemptAt).where(sql`status = 'pending'`),
    index("webhook_deliveries_subscription_idx").on(t.subscriptionId, t.createdAt),
  ],
);

export type WebhookDeliveryRow = typeof webhookDeliveries.$inferSelect;

/** The orchestration replicas sharing this database, each heartbeating its row; `drain` asks one to stop claiming. */
export const clusterNodes = orchestrationSchema.table("cluster_nodes", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  address: text("address"),
  /** active, draining, stopped */
  status: text("status").notNull().default("active"),
  drain: boolean("drain").notNull().default(false),
  registeredAt: timestamp("registered_at", { withTimezone: true }).notNull().defaultNow(),
  lastHeartbeatAt: timestamp("last_heartbeat_at", { withTimezone: true }).notNull().defaultNow(),
});

export type ClusterNodeRow = typeof clusterNodes.$inferSelect;

/** Orch8 sessions: a key per tenant with shared data for the instances that name it. */
export const sessions = orchestrationSchema.table(
  "sessions",
  {
    id: uuid("id").primaryKey(),
    domainId: text("domain_id").notNull(),
    tenantId: text("tenant_id").notNull(),
    sessionKey: text("session_key").notNull(),
    data: jsonb("data").$type<unknown>().notNull().default({}),
    /** active, completed, expired */
    state: text("state").notNull().default("active"),
    expiresAt: timestamp("expires_at", { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("sessions_key_idx").on(t.domainId, t.tenantId, t.sessionKey)],
);

export type SessionRow = typeof sessions.$inferSelect;

/** Named secrets of a tenant (`credentials://<id>`), sealed at rest and never returned. */
export const credentials = orchestrationSchema.table(
  "credentials",
  {
    domainId: text("domain_id").notNull(),
    tenantId: text("tenant_id").notNull(),
    id: text("id").notNull(),
    name: text("name").notNull(),
    /** api_key, oauth2, basic */
    kind: text("kind").notNull().default("api_key"),
    sealedValue: text("sealed_value").notNull(),
    sealedRefreshToken: text("sealed_refresh_token"),
    refreshUrl: text("refresh_url"),
    expiresAt: timestamp("expires_at", { withTimezone: true }),
    enabled: boolean("enabled").notNull().default(true),
    description: text("description"),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ name: "credentials_pk", columns: [t.domainId, t.tenantId, t.id] })],
);

export type CredentialRow = typeof credentials.$inferSelect;
