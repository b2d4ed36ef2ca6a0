import type { JsonObject } from "@bufbuild/protobuf";
import { sql } from "drizzle-orm";
import { boolean, index, integer, jsonb, pgSchema, primaryKey, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { outboxTable, processedEventsTable } from "@cloudforet/events";

export const inventorySchema = pgSchema("inventory");

/** Events written in the same transaction as the change, relayed to NATS (SPEC §9). */
export const outbox = outboxTable(inventorySchema);

/** Which bus events this service has already applied (idempotent consumers). */
export const processedEvents = processedEventsTable(inventorySchema);

/** When a collector runs on its own (stored as given; see Collector.schedule). */
export interface CollectorSchedule {
  enabled: boolean;
  /** Five-field cron, or "" when the schedule is an interval. */
  cron: string;
  timezone: string;
  /** Seconds between fires instead of a cron; absent or 0 for a cron schedule. */
  intervalSeconds?: number;
}

/** Collection sources. Ids may be chosen by the client, so they are unique per domain. */
export const collectors = inventorySchema.table(
  "collectors",
  {
    domainId: text("domain_id").notNull(),
    collectorId: text("collector_id").notNull(),
    workspaceId: text("workspace_id").notNull(),
    name: text("name").notNull(),
    provider: text("provider").notNull(),
    pluginEndpoint: text("plugin_endpoint").notNull().default(""),
    pluginOptions: jsonb("plugin_options").$type<JsonObject>().notNull().default({}),
    pluginMetadata: jsonb("plugin_metadata").$type<JsonObject>().notNull().default({}),
    /** A registry plugin (plugins/) instead of plugin_endpoint; resolved at every call. */
    pluginId: text("plugin_id").notNull().default(""),
    /** With plugin_id: a version or an alias. */
    pluginVersion: text("plugin_version").notNull().default(""),
    schedule: jsonb("schedule").$type<CollectorSchedule>(),
    tags: jsonb("tags").$type<Record<string, string>>().notNull().default({}),
    lastCollectedAt: timestamp("last_collected_at", { withTimezone: true }),
    /** When the schedule fires next (schedules/); null without an enabled schedule. */
    nextFireAt: timestamp("next_fire_at", { withTimezone: true }),
    /**
     * The credential of the workspace's service identity (identity ServiceIdentityService.Grant), sealed
     * with INVENTORY_CREDENTIALS_KEYS and bound to the collector: pull and scheduled jobs run under it.
     */
    sealedServiceCredential: text("sealed_service_credential"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.domainId, t.collectorId] }),
    index("collectors_domain_created_idx").on(t.domainId, t.createdAt),
    index("collectors_next_fire_idx").on(t.nextFireAt).where(sql`next_fire_at is not null`),
  ],
);

export type CollectorRow = typeof collectors.$inferSelect;

/** Collection runs. At most one job per collector is CREATED or IN_PROGRESS (the partial unique index). */
export const jobs = inventorySchema.table(
  "jobs",
  {
    jobId: text("job_id").primaryKey(),
    domainId: text("domain_id").notNull(),
    workspaceId: text("workspace_id").notNull(),
    collectorId: text("collector_id").notNull(),
    name: text("name").notNull(),
    status: text("status").notNull(),
    serviceAccountIds: jsonb("service_account_ids").$type<string[]>().notNull(),
    options: jsonb("options").$type<JsonObject>().notNull().default({}),
    totalTaskCount: integer("total_task_count").notNull(),
    succeededTaskCount: integer("succeeded_task_count").notNull().default(0),
    failedTaskCount: integer("failed_task_count").notNull().default(0),
    createdCount: integer("created_count").notNull().default(0),
    updatedCount: integer("updated_count").notNull().default(0),
    deletedCount: integer("deleted_count").notNull().default(0),
    errorCount: integer("error_count").notNull().default(0),
    progress: integer("progress").notNull().default(0),
    /** When the job ends TIMEOUT if it has not ended otherwise. */
    timeoutAt: timestamp("timeout_at", { withTimezone: true }).notNull(),
    /**
     * The caller's credentials, sealed with INVENTORY_CREDENTIALS_KEYS and bound to the job id: any
     * replica that claims one of the job's pull tasks calls identity and cloud-service as the caller.
     */
    sealedAuthorization: text("sealed_authorization"),
    /** Who or what started it: a user id (Collect, JobService.Create), "schedule" or "system". */
    startedBy: text("started_by").notNull().default(""),
    /** Bumped on every change, so watchers can drop events older than their snapshot. */
    version: integer("version").notNull().default(1),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
    startedAt: timestamp("started_at", { withTimezone: true }),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
  },
  (t) => [
    uniqueIndex("jobs_one_running_per_collector_idx").on(t.domainId, t.collectorId).where(sql`status in ('CREATED', 'IN_PROGRESS')`),
    index("jobs_running_timeout_idx").on(t.timeoutAt).where(sql`status in ('CREATED', 'IN_PROGRESS')`),
    index("jobs_domain_created_idx").on(t.domainId, t.createdAt),
    index("jobs_finished_idx").on(t.finishedAt).where(sql`status not in ('CREATED', 'IN_PROGRESS')`),
  ],
);

export type JobRow = typeof jobs.$inferSelect;

/** One service account's collection within a job. */
export const jobTasks = inventorySchema.table(
  "job_tasks",
  {
    jobTaskId: text("job_task_id").primaryKey(),
    jobId: text("job_id").notNull(),
    domainId: text("domain_id").notNull(),
    workspaceId: text("workspace_id").notNull(),
    collectorId: text("collector_id").notNull(),
    serviceAccountId: text("service_account_id").notNull(),
    secretId: text("secret_id").notNull().default(""),
    status: text("status").notNull(),
    progress: integer("progress").notNull().default(0),
    createdCount: integer("created_count").notNull().default(0),
    updatedCount: integer("updated_count").notNull().default(0),
    deletedCount: integer("deleted_count").notNull().default(0),
    errorCount: integer("error_count").notNull().default(0),
    disconnectedCount: integer("disconnected_count").notNull().default(0),
    errors: jsonb("errors").$type<string[]>().notNull().default([]),
    /** Inventory collects it from the plugin (pull); false: the plugin reports it itself (push). */
    pull: boolean("pull").notNull().default(false),
    /** The replica streaming it, until `lease_expires_at` (database clock); null: claimable at once. */
    leaseOwner: text("lease_owner"),
    leaseExpiresAt: timestamp("lease_expires_at", { withTimezone: true }),
    /**
     * How many of the plugin's items are written and counted (the counters above include exactly
     * these). Collect has no resume token: a replica that takes the task over re-runs it and skips these.
     */
    checkpoint: integer("checkpoint").notNull().default(0),
    /**
     * The W3C traceparent of the call that created the task (Collect, JobService.Create), so the
     * replica that claims it later runs it in that trace; null when tracing was off.
     */
    traceparent: text("traceparent"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
    startedAt: timestamp("started_at", { withTimezone: true }),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
  },
  (t) => [
    uniqueIndex("job_tasks_job_account_idx").on(t.jobId, t.serviceAccountId),
    index("job_tasks_claimable_idx").on(t.leaseExpiresAt).where(sql`pull and status in ('CREATED', 'IN_PROGRESS')`),
    index("job_tasks_domain_created_idx").on(t.domainId, t.createdAt),
    index("job_tasks_collector_account_idx").on(t.domainId, t.collectorId, t.serviceAccountId, t.finishedAt),
  ],
);

export type JobTaskRow = typeof jobTasks.$inferSelect;

/**
 * One time a collector's schedule came due (schedules/): the job it started, or why none. The unique
 * index makes a fire happen once whatever the number of replicas.
 */
export const scheduleFires = inventorySchema.table(
  "schedule_fires",
  {
    fireId: text("fire_id").primaryKey(),
    domainId: text("domain_id").notNull(),
    workspaceId: text("workspace_id").notNull(),
    collectorId: text("collector_id").notNull(),
    scheduledAt: timestamp("scheduled_at", { withTimezone: true }).notNull(),
    outcome: text("outcome").$type<"STARTED" | "SKIPPED" | "FAILED">().notNull(),
    jobId: text("job_id").notNull().default(""),
    reason: text("reason").notNull().default(""),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("schedule_fires_once_idx").on(t.domainId, t.collectorId, t.scheduledAt), index("schedule_fires_created_idx").on(t.createdAt)],
);

export type ScheduleFireRow = typeof scheduleFires.$inferSelect;

/** A collector rule's condition: one query-language filter over the collected resource. */
export interface RuleCondition {
  k: string;
  v: unknown;
  o: string;
}

/** What a collector rule does to a resource it matches. */
export interface RuleActions {
  change_project?: string;
  add_tags?: Record<string, string>;
  change_data?: JsonObject;
}

/**
 * Collector rules (collector-rules/): ordered per collector, or per domain when collector_id is
 * empty; `rule_order` is 1..n within that scope, kept contiguous.
 */
export const collectorRules = inventorySchema.table(
  "collector_rules",
  {
    domainId: text("domain_id").notNull(),
    collectorRuleId: text("collector_rule_id").notNull(),
    workspaceId: text("workspace_id").notNull().default(""),
    collectorId: text("collector_id").notNull().default(""),
    name: text("name").notNull().default(""),
    ruleOrder: integer("rule_order").notNull(),
    conditions: jsonb("conditions").$type<RuleCondition[]>().notNull().default([]),
    conditionsPolicy: text("conditions_policy").$type<"ALL" | "ANY" | "ALWAYS">().notNull().default("ALL"),
    actions: jsonb("actions").$type<RuleActions>().notNull().default({}),
    stopProcessing: boolean("stop_processing").notNull().default(false),
    tags: jsonb("tags").$type<Record<string, string>>().notNull().default({}),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.domainId, t.collectorRuleId] }), index("collector_rules_order_idx").on(t.domainId, t.collectorId, t.ruleOrder)],
);

export type CollectorRuleRow = typeof collectorRules.$inferSelect;

/** The plugin registry (plugins/): plugins of a domain, their versions, endpoints and aliases. */
export const plugins = inventorySchema.table(
  "plugins",
  {
    domainId: text("domain_id").notNull(),
    pluginId: text("plugin_id").notNull(),
    name: text("name").notNull(),
    kind: text("kind").$type<"COLLECTOR" | "NOTIFICATION_PROTOCOL">().notNull().default("COLLECTOR"),
    routingMode: text("routing_mode").$type<"WEIGHTED" | "FAILOVER">().notNull().default("WEIGHTED"),
    tags: jsonb("tags").$type<Record<string, string>>().notNull().default({}),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.domainId, t.pluginId] }), index("plugins_domain_created_idx").on(t.domainId, t.createdAt)],
);

export type PluginRow = typeof plugins.$inferSelect;

export const pluginVersions = inventorySchema.table(
  "plugin_versions",
  {
    domainId: text("domain_id").notNull(),
    pluginId: text("plugin_id").notNull(),
    version: text("version").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.domainId, t.pluginId, t.version] })],
);

export type PluginVersionRow = typeof pluginVersions.$inferSelect;

export type EndpointHealth = "UNKNOWN" | "HEALTHY" | "UNHEALTHY";

/** A version's endpoints in order (`position`), with what the health checker last saw. */
export const pluginEndpoints = inventorySchema.table(
  "plugin_endpoints",
  {
    domainId: text("domain_id").notNull(),
    pluginId: text("plugin_id").notNull(),
    version: text("version").notNull(),
    position: integer("position").notNull(),
    url: text("url").notNull(),
    weight: integer("weight").notNull().default(1),
    health: text("health").$type<EndpointHealth>().notNull().default("UNKNOWN"),
    lastError: text("last_error").notNull().default(""),
    checkedAt: timestamp("checked_at", { withTimezone: true }),
  },
  (t) => [primaryKey({ columns: [t.domainId, t.pluginId, t.version, t.position] }), index("plugin_endpoints_checked_idx").on(t.checkedAt)],
);

export type PluginEndpointRow = typeof pluginEndpoints.$inferSelect;

export const pluginAliases = inventorySchema.table(
  "plugin_aliases",
  {
    domainId: text("domain_id").notNull(),
    pluginId: text("plugin_id").notNull(),
    name: text("name").notNull(),
    version: text("version").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.domainId, t.pluginId, t.name] })],
);

export type PluginAliasRow = typeof pluginAliases.$inferSelect;

export type EnrollmentStatus = "PENDING" | "ACTIVE" | "FAILED" | "CANCELLED";

/**
 * Enrollments of a plugin into a domain (workspace_id '') or a workspace (enrollments/). Parameters
 * are sealed with INVENTORY_CREDENTIALS_KEYS; `masked_parameters` is what reads show.
 */
export const enrollments = inventorySchema.table(
  "enrollments",
  {
    domainId: text("domain_id").notNull(),
    enrollmentId: text("enrollment_id").notNull(),
    workspaceId: text("workspace_id").notNull().default(""),
    pluginId: text("plugin_id").notNull(),
    version: text("version").notNull().default(""),
    resolvedVersion: text("resolved_version").notNull().default(""),
    status: text("status").$type<EnrollmentStatus>().notNull().default("PENDING"),
    reason: text("reason").notNull().default(""),
    maskedParameters: jsonb("masked_parameters").$type<JsonObject>().notNull().default({}),
    sealedParameters: text("sealed_parameters").notNull(),
    attempts: integer("attempts").notNull().default(0),
    /** A verifier holds a PENDING enrollment until then (another replica takes it over after). */
    claimedUntil: timestamp("claimed_until", { withTimezone: true }),
    verifiedAt: timestamp("verified_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.domainId, t.enrollmentId] }), index("enrollments_pending_idx").on(t.createdAt).where(sql`status = 'PENDING'`)],
);

export type EnrollmentRow = typeof enrollments.$inferSelect;
