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
  ],
);

export type CloudServiceRow = typeof cloudServices.$inferSelect;
export type NewCloudServiceRow = typeof cloudServices.$inferInsert;
