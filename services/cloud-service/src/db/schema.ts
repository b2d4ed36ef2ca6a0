import type { JsonObject } from "@bufbuild/protobuf";
import { sql } from "drizzle-orm";
import { boolean, index, integer, jsonb, pgSchema, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { outboxTable, processedEventsTable } from "@cloudforet/events";

export const cloudServiceSchema = pgSchema("cloud_service");

/** Events written in the same transaction as the change, relayed to NATS (SPEC §9). */
export const outbox = outboxTable(cloudServiceSchema);

/** Which bus events this service has already applied (idempotent consumers). */
export const processedEvents = processedEventsTable(cloudServiceSchema);

/** Kinds of resources. Built-ins have an empty domain_id and belong to every domain. */
export const cloudServiceTypes = cloudServiceSchema.table(
  "cloud_service_types",
  {
    cloudServiceTypeId: text("cloud_service_type_id").primaryKey(),
    domainId: text("domain_id").notNull(),
    key: text("key").notNull(),
    name: text("name").notNull(),
    group: text("group").notNull(),
    provider: text("provider").notNull(),
    isBuiltin: boolean("is_builtin").notNull().default(false),
    metadata: jsonb("metadata").$type<JsonObject>().notNull().default({}),
    tags: jsonb("tags").$type<Record<string, string>>().notNull().default({}),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("cloud_service_types_domain_key_provider_idx").on(t.domainId, t.key, t.provider)],
);

export type CloudServiceTypeRow = typeof cloudServiceTypes.$inferSelect;

/** Where a resource lives at its provider (the wire's Reference). */
export interface ResourceReference {
  resource_id: string;
  external_link: string;
}

/**
 * Inventoried resources. `resource_id` copies `reference.resource_id` so the default match rule
 * (resource_id + provider + cloud_service_type) is one index lookup; among resources that are not
 * DELETED that triple is unique.
 */
export const cloudServices = cloudServiceSchema.table(
  "cloud_services",
  {
    cloudServiceId: text("cloud_service_id").primaryKey(),
    domainId: text("domain_id").notNull(),
    workspaceId: text("workspace_id").notNull().default(""),
    projectId: text("project_id").notNull().default(""),
    name: text("name").notNull(),
    cloudServiceType: text("cloud_service_type").notNull(),
    cloudServiceGroup: text("cloud_service_group").notNull().default(""),
    provider: text("provider").notNull(),
    account: text("account").notNull().default(""),
    state: text("state").notNull(),
    data: jsonb("data").$type<JsonObject>().notNull().default({}),
    tags: jsonb("tags").$type<Record<string, string>>().notNull().default({}),
    reference: jsonb("reference").$type<ResourceReference>().notNull().default({ resource_id: "", external_link: "" }),
    resourceId: text("resource_id").notNull().default(""),
    collectorId: text("collector_id").notNull().default(""),
    jobTaskId: text("job_task_id").notNull().default(""),
    /** Consecutive finished collections of its collector and account that did not see it. */
    missCount: integer("miss_count").notNull().default(0),
    lastCollectedAt: timestamp("last_collected_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
    deletedAt: timestamp("deleted_at", { withTimezone: true }),
  },
  (t) => [
    uniqueIndex("cloud_services_live_resource_idx")
      .on(t.domainId, t.provider, t.cloudServiceType, t.resourceId)
      .where(sql`state <> 'DELETED' and resource_id <> ''`),
    index("cloud_services_resource_idx").on(t.domainId, t.resourceId),
    index("cloud_services_domain_created_idx").on(t.domainId, t.createdAt, t.cloudServiceId),
    index("cloud_services_collector_account_idx").on(t.domainId, t.collectorId, t.account),
    // Query at scale (List/Stat): eq and in on data.* and tags.* compile to a containment
    // pre-filter (`data @> '{"cluster":"c1"}'`) that these answer; jsonb_path_ops is the
    // smaller, faster GIN flavour and containment is all it needs to serve.
    index("cloud_services_data_gin_idx").using("gin", t.data.op("jsonb_path_ops")),
    index("cloud_services_tags_gin_idx").using("gin", t.tags.op("jsonb_path_ops")),
    // Sort by name, then the default sort's tie-breakers: a page is the first rows of this
    // index that pass the filters, not a sort of every match.
    index("cloud_services_domain_name_idx").on(t.domainId, t.name, t.createdAt, t.cloudServiceId),
  ],
);

export type CloudServiceRow = typeof cloudServices.$inferSelect;
export type NewCloudServiceRow = typeof cloudServices.$inferInsert;

/** One changed key of a resource in a change record: `name`, `project_id`, `data.power_state`, `tags.env`. */
export interface ChangeDiff {
  key: string;
  before: unknown;
  after: unknown;
}

/**
 * What one write changed on one resource (changed keys only), by whom and when; written in the same
 * statement or transaction as the write, pruned after CLOUD_SERVICE_HISTORY_RETENTION_DAYS.
 */
export const changeHistory = cloudServiceSchema.table(
  "change_history",
  {
    // Time-ordered (0003): the clock in microseconds, then 32 random bits.
    changeId: text("change_id")
      .primaryKey()
      .default(sql`('ch-' || lpad(to_hex((extract(epoch from clock_timestamp()) * 1000000)::bigint), 14, '0') || lpad(to_hex((random() * 4294967295)::bigint), 8, '0'))`),
    domainId: text("domain_id").notNull(),
    workspaceId: text("workspace_id").notNull().default(""),
    cloudServiceId: text("cloud_service_id").notNull(),
    action: text("action").notNull(),
    diff: jsonb("diff").$type<ChangeDiff[]>().notNull().default([]),
    diffCount: integer("diff_count").notNull().default(0),
    updatedBy: text("updated_by").notNull(),
    authorId: text("author_id").notNull().default(""),
    userId: text("user_id").notNull().default(""),
    collectorId: text("collector_id").notNull().default(""),
    jobId: text("job_id").notNull().default(""),
    jobTaskId: text("job_task_id").notNull().default(""),
    collectorRuleId: text("collector_rule_id").notNull().default(""),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().default(sql`clock_timestamp()`),
  },
  (t) => [
    index("change_history_resource_idx").on(t.domainId, t.cloudServiceId, t.createdAt),
    // No index on created_at alone: the hourly retention pass finds the oldest rows first in a scan.
    index("change_history_domain_created_idx").on(t.domainId, t.createdAt),
  ],
);

export type ChangeHistoryRow = typeof changeHistory.$inferSelect;
