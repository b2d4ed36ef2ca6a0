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
    // Analyze reads months of rows of one domain by date range: with every column it filters,
    // groups and sums by (all but tags) in the index, it can read the index alone (index-only
    // scan) instead of the wide rows. It replaces (domain_id, date), which it starts with.
    index("costs_domain_date_covering_idx").on(
      t.domainId,
      t.date,
      t.workspaceId,
      t.dataSourceId,
      t.resourceType,
      t.region,
      t.currency,
      t.resourceId,
      t.cost,
    ),
    index("costs_domain_data_source_idx").on(t.domainId, t.dataSourceId),
    // tags.<key> eq/in filters compile to containment (`tags @> '{"team":"a"}'`), which this serves.
    index("costs_tags_gin_idx").using("gin", t.tags.op("jsonb_path_ops")),
    // Budget evaluation finds the periods a batch touched by its job id.
    index("costs_domain_job_idx").on(t.domainId, t.jobId),
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

/** A threshold as stored: its value as decimal text, so 33.333333 stays exact. */
export interface StoredThreshold {
  value: string;
  unit: "PERCENT" | "ACTUAL_COST";
  severity: "WARNING" | "CRITICAL";
}

/**
 * Budgets: a planned limit per month or year over the cost rows matching its filters (workspace,
 * project tag, data source, tags; "" / {} match all). `planned_limits` maps a period ("2024-01" or
 * "2024") to its own limit (decimal text); other periods use `limit_amount`.
 */
export const budgets = costSchema.table(
  "budgets",
  {
    budgetId: text("budget_id").primaryKey(),
    domainId: text("domain_id").notNull(),
    workspaceId: text("workspace_id").notNull(),
    projectId: text("project_id").notNull().default(""),
    dataSourceId: text("data_source_id").notNull().default(""),
    tagFilter: jsonb("tag_filter").$type<Record<string, string>>().notNull().default({}),
    name: text("name").notNull(),
    currency: text("currency").notNull(),
    timeUnit: text("time_unit").$type<"MONTHLY" | "YEARLY">().notNull(),
    limitAmount: numeric("limit_amount", { precision: 20, scale: 6 }).notNull(),
    plannedLimits: jsonb("planned_limits").$type<Record<string, string>>().notNull().default({}),
    thresholds: jsonb("thresholds").$type<StoredThreshold[]>().notNull().default([]),
    tags: jsonb("tags").$type<Record<string, string>>().notNull().default({}),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("budgets_domain_idx").on(t.domainId, t.workspaceId)],
);

export type BudgetRow = typeof budgets.$inferSelect;

/**
 * One threshold notified for one budget period ("PERCENT:80"): the primary key is what makes each
 * threshold notify once per period across replicas, retries and redelivered events.
 */
export const budgetNotices = costSchema.table(
  "budget_notices",
  {
    budgetId: text("budget_id")
      .notNull()
      .references(() => budgets.budgetId, { onDelete: "cascade" }),
    period: text("period").notNull(),
    threshold: text("threshold").notNull(),
    domainId: text("domain_id").notNull(),
    usage: numeric("usage", { precision: 20, scale: 6 }).notNull(),
    limitAmount: numeric("limit_amount", { precision: 20, scale: 6 }).notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.budgetId, t.period, t.threshold] })],
);
