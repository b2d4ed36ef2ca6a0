import type { JsonObject } from "@bufbuild/protobuf";
import { index, jsonb, numeric, pgSchema, primaryKey, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { outboxTable } from "@cloudforet/events";

export const costSchema = pgSchema("cost");

/** Events written in the same transaction as the change, relayed to NATS (SPEC §9). */
export const outbox = outboxTable(costSchema);

/** Sources of cost rows. Ids are chosen by clients, so they are unique per domain, not globally. */
export const dataSources = costSchema.table(
  "data_sources",
  {
    domainId: text("domain_id").notNull(),
    dataSourceId: text("data_source_id").notNull(),
    workspaceId: text("workspace_id").notNull(),
    name: text("name").notNull(),
    provider: text("provider").notNull(),
    tags: jsonb("tags").$type<Record<string, string>>().notNull().default({}),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.domainId, t.dataSourceId] })],
);

export type DataSourceRow = typeof dataSources.$inferSelect;

/**
 * One resource's cost on one day. Money is numeric(20,6): exact, summed as numeric in SQL and turned
 * into a double once, on the way out. `date` is the "YYYY-MM-DD" text (validated on the way in), so it
 * compares as the contract says and truncates to months and years with left().
 */
export const costs = costSchema.table(
  "costs",
  {
    costId: text("cost_id").primaryKey(),
    domainId: text("domain_id").notNull(),
    workspaceId: text("workspace_id").notNull(),
    dataSourceId: text("data_source_id").notNull(),
    date: text("date").notNull(),
    cost: numeric("cost", { precision: 20, scale: 6 }).notNull(),
    currency: text("currency").notNull(),
    resourceId: text("resource_id").notNull(),
    resourceType: text("resource_type").notNull(),
    region: text("region").notNull(),
    tags: jsonb("tags").$type<Record<string, string>>().notNull().default({}),
    jobId: text("job_id").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("costs_domain_date_idx").on(t.domainId, t.date),
    index("costs_domain_data_source_idx").on(t.domainId, t.dataSourceId),
  ],
);

export type CostRow = typeof costs.$inferSelect;

/**
 * One BatchCreate call. With an idempotency key, the unique index makes a retried (even concurrent)
 * batch wait for the first and then answer with its stored response instead of adding rows.
 */
export const costBatches = costSchema.table(
  "cost_batches",
  {
    jobId: text("job_id").primaryKey(),
    domainId: text("domain_id").notNull(),
    idempotencyKey: text("idempotency_key"),
    response: jsonb("response").$type<JsonObject>(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("cost_batches_domain_key_idx").on(t.domainId, t.idempotencyKey)],
);
