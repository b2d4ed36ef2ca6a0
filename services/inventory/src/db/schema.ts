import type { JsonObject } from "@bufbuild/protobuf";
import { sql } from "drizzle-orm";
import { index, integer, jsonb, pgSchema, primaryKey, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { outboxTable, processedEventsTable } from "@cloudforet/events";

export const inventorySchema = pgSchema("inventory");

/** Events written in the same transaction as the change, relayed to NATS (SPEC §9). */
export const outbox = outboxTable(inventorySchema);

/** Which bus events this service has already applied (idempotent consumers). */
export const processedEvents = processedEventsTable(inventorySchema);

/** When a collector runs on its own (stored as given; see Collector.schedule). */
export interface CollectorSchedule {
  enabled: boolean;
  cron: string;
  timezone: string;
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
    schedule: jsonb("schedule").$type<CollectorSchedule>(),
    tags: jsonb("tags").$type<Record<string, string>>().notNull().default({}),
    lastCollectedAt: timestamp("last_collected_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.domainId, t.collectorId] }), index("collectors_domain_created_idx").on(t.domainId, t.createdAt)],
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
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
    startedAt: timestamp("started_at", { withTimezone: true }),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
  },
  (t) => [
    uniqueIndex("job_tasks_job_account_idx").on(t.jobId, t.serviceAccountId),
    index("job_tasks_domain_created_idx").on(t.domainId, t.createdAt),
    index("job_tasks_collector_account_idx").on(t.domainId, t.collectorId, t.serviceAccountId, t.finishedAt),
  ],
);

export type JobTaskRow = typeof jobTasks.$inferSelect;
