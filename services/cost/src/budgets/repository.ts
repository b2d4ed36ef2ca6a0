import { and, asc, eq, sql, type SQL } from "drizzle-orm";
import Decimal from "decimal.js";
import type { Database, DatabaseExecutor } from "@cloudforet/db";
import { queryRows } from "@cloudforet/db";
import { costSubjects, enqueueEvents } from "@cloudforet/events";
import { col, defineQueryFields, json, listWith, scopeCondition, type QueryInput, type TenantScope } from "@cloudforet/query";
import { budgetNotices, budgets, costs, outbox, type BudgetRow } from "../db/schema";
import { forecast, limitFor, percentOf, periodDays, reachedThresholds, thresholdKey } from "./budgets";

/** What BudgetService.List and its query language can see of a budget. */
export const budgetFields = defineQueryFields(
  {
    budget_id: col(budgets.budgetId),
    name: col(budgets.name),
    workspace_id: col(budgets.workspaceId),
    project_id: col(budgets.projectId),
    data_source_id: col(budgets.dataSourceId),
    currency: col(budgets.currency),
    time_unit: col(budgets.timeUnit),
    limit: col(budgets.limitAmount),
    planned_limits: json(budgets.plannedLimits),
    thresholds: json(budgets.thresholds),
    tag_filter: json(budgets.tagFilter),
    tags: json(budgets.tags),
    domain_id: col(budgets.domainId),
    created_at: col(budgets.createdAt),
    updated_at: col(budgets.updatedAt),
  },
  { keywordFields: ["budget_id", "name"], defaultSort: [{ key: "created_at" }, { key: "budget_id" }] },
);

/** Domain-wide budgets (workspace_id "") are readable by every member. */
const inScope = (scope: TenantScope) => scopeCondition(scope, budgets, { domainWideRows: true });

export type NewBudget = Omit<BudgetRow, "createdAt" | "updatedAt">;
export type BudgetChanges = Partial<Pick<BudgetRow, "name" | "limitAmount" | "plannedLimits" | "thresholds" | "tags">>;

/** One budget period's usage, exact. */
export interface PeriodUsage {
  budget: BudgetRow;
  period: string;
  usage: Decimal;
}

/** A period's usage against its limit, as Stat reports it. */
export interface PeriodStat extends PeriodUsage {
  limit: Decimal;
  usagePercent: Decimal;
  forecast: Decimal;
  forecastPercent: Decimal;
  days: { total: number; elapsed: number };
  notified: string[];
}

/** What a cost batch touched: its domain, job, and the workspace and data source of its rows. */
export interface CostBatchTouch {
  domainId: string;
  /** The batch's job id; or, for one cost created alone (no job), its cost id. */
  jobId: string;
  costId?: string;
  workspaceId: string;
  dataSourceId: string;
}

export class BudgetRepository {
  constructor(
    private readonly db: Database,
    private readonly onCommit: () => void,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** Stores a budget, then notifies what its current period has already reached. */
  async create(input: NewBudget): Promise<BudgetRow> {
    const row = await this.db.transaction(async (tx) => {
      const [created] = await tx.insert(budgets).values(input).returning();
      await this.evaluate(tx, currentPeriodOf(created.domainId, created.budgetId));
      return created;
    });
    this.onCommit();
    return row;
  }

  async update(scope: TenantScope, budgetId: string, changes: BudgetChanges): Promise<BudgetRow | undefined> {
    const row = await this.db.transaction(async (tx) => {
      const [updated] = await tx
        .update(budgets)
        .set({ ...changes, updatedAt: sql`now()` })
        .where(and(eq(budgets.budgetId, budgetId), inScope(scope)))
        .returning();
      if (updated) await this.evaluate(tx, currentPeriodOf(updated.domainId, updated.budgetId));
      return updated;
    });
    this.onCommit();
    return row;
  }

  async delete(scope: TenantScope, budgetId: string): Promise<boolean> {
    const deleted = await this.db.delete(budgets).where(and(eq(budgets.budgetId, budgetId), inScope(scope))).returning({ budgetId: budgets.budgetId });
    return deleted.length > 0;
  }

  async get(scope: TenantScope, budgetId: string): Promise<BudgetRow | undefined> {
    const [row] = await this.db.select().from(budgets).where(and(eq(budgets.budgetId, budgetId), inScope(scope)));
    return row;
  }

  list(scope: TenantScope, query: QueryInput) {
    return listWith(this.db, budgets, budgetFields, query, inScope(scope));
  }

  /**
   * Evaluates the budgets a committed cost batch concerns, for the periods its rows fall in: one
   * aggregate statement sums each (budget, period), then every threshold reached and not yet
   * notified gets its notice row and its event in one transaction. The notice's primary key makes
   * this idempotent: a redelivered event, a retry or another replica adds nothing.
   */
  async evaluateBatch(touch: CostBatchTouch): Promise<number> {
    const targets = sql`select distinct b.budget_id, case when b.time_unit = 'YEARLY' then left(t.month, 4) else t.month end as period
      from ${budgets} b
      cross join (select distinct left(c.date, 7) as month from ${costs} c where c.domain_id = ${touch.domainId}
        and ${touch.costId ? sql`c.cost_id = ${touch.costId}` : sql`c.job_id = ${touch.jobId}`}) t
      where b.domain_id = ${touch.domainId}
        and (b.workspace_id = '' or b.workspace_id = ${touch.workspaceId})
        and (b.data_source_id = '' or b.data_source_id = ${touch.dataSourceId})`;
    const notified = await this.db.transaction((tx) => this.evaluate(tx, targets));
    if (notified > 0) this.onCommit();
    return notified;
  }

  /**
   * Stat: usage against limit of the budgets in scope (one, or a page of all) for `period` ("YYYY-MM"
   * picks its year for yearly budgets; "" the current period of each).
   */
  async stat(scope: TenantScope, options: { budgetId?: string; period: string; limit: number; offset: number }): Promise<{ rows: PeriodStat[]; totalCount: number }> {
    const now = this.clock();
    const month = options.period || now.toISOString().slice(0, 7);
    // A year ("2024") is a period of yearly budgets only.
    const where = and(inScope(scope), options.budgetId ? eq(budgets.budgetId, options.budgetId) : undefined, month.length === 4 ? eq(budgets.timeUnit, "YEARLY") : undefined);
    const periodExpr =
      month.length === 4 ? sql`${month}::text` : sql`case when ${budgets.timeUnit} = 'YEARLY' then left(${month}::text, 4) else ${month}::text end`;
    const targets = sql`select ${budgets.budgetId} as budget_id, ${periodExpr} as period from ${budgets} where ${where}
      order by ${budgets.createdAt}, ${budgets.budgetId} limit ${options.limit} offset ${options.offset}`;
    const usages = await usageOf(this.db, targets);
    const [{ count }] = await queryRows<{ count: string | number }>(this.db, sql`select count(*) as count from ${budgets} where ${where}`);
    const notices = usages.length
      ? await this.db
          .select({ budgetId: budgetNotices.budgetId, period: budgetNotices.period, threshold: budgetNotices.threshold })
          .from(budgetNotices)
          .where(sql`(${budgetNotices.budgetId}, ${budgetNotices.period}) in (${sql.join(usages.map((u) => sql`(${u.budget.budgetId}, ${u.period})`), sql`, `)})`)
          .orderBy(asc(budgetNotices.createdAt))
      : [];
    return {
      rows: usages.map((u) => {
        const limit = limitFor(u.budget, u.period);
        const days = periodDays(u.period, now);
        const predicted = forecast(u.usage, days);
        return {
          ...u,
          limit,
          usagePercent: percentOf(u.usage, limit),
          forecast: predicted,
          forecastPercent: percentOf(predicted, limit),
          days,
          notified: notices.filter((n) => n.budgetId === u.budget.budgetId && n.period === u.period).map((n) => n.threshold),
        };
      }),
      totalCount: Number(count),
    };
  }

  /** Notices for the reached thresholds of the targets' periods not notified yet; returns how many. */
  private async evaluate(tx: DatabaseExecutor, targets: SQL): Promise<number> {
    const usages = await usageOf(tx, targets);
    const now = this.clock();
    const candidates = usages.flatMap((u) => {
      const limit = limitFor(u.budget, u.period);
      return reachedThresholds(u.budget.thresholds, u.usage, limit).map((threshold) => ({ ...u, limit, threshold }));
    });
    if (candidates.length === 0) return 0;
    const rows = candidates.map((c) => ({
      budget_id: c.budget.budgetId,
      period: c.period,
      threshold: thresholdKey(c.threshold),
      domain_id: c.budget.domainId,
      usage: c.usage.toFixed(),
      limit_amount: c.limit.toFixed(),
    }));
    const inserted = await queryRows<{ budget_id: string; period: string; threshold: string }>(
      tx,
      sql`insert into ${budgetNotices} (budget_id, period, threshold, domain_id, usage, limit_amount)
          select r.budget_id, r.period, r.threshold, r.domain_id, r.usage, r.limit_amount
          from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(budget_id text, period text, threshold text, domain_id text, usage numeric, limit_amount numeric)
          on conflict do nothing
          returning budget_id, period, threshold`,
    );
    const fresh = new Set(inserted.map((r) => `${r.budget_id}\n${r.period}\n${r.threshold}`));
    const events = candidates
      .filter((c) => fresh.has(`${c.budget.budgetId}\n${c.period}\n${thresholdKey(c.threshold)}`))
      .map((c) => ({
        subject: costSubjects.budgetThresholdReached,
        domainId: c.budget.domainId,
        data: {
          budget_id: c.budget.budgetId,
          name: c.budget.name,
          workspace_id: c.budget.workspaceId,
          period: c.period,
          threshold: thresholdKey(c.threshold),
          severity: c.threshold.severity,
          currency: c.budget.currency,
          usage: c.usage.toFixed(2),
          limit: c.limit.toFixed(2),
          usage_percent: percentOf(c.usage, c.limit).toFixed(2),
          forecast: forecast(c.usage, periodDays(c.period, now)).toFixed(2),
        },
      }));
    await enqueueEvents(tx, outbox, events);
    return events.length;
  }
}

/** The current period of one budget, as a targets statement. */
function currentPeriodOf(domainId: string, budgetId: string): SQL {
  return sql`select b.budget_id, case when b.time_unit = 'YEARLY' then to_char(now() at time zone 'UTC', 'YYYY') else to_char(now() at time zone 'UTC', 'YYYY-MM') end as period
    from ${budgets} b where b.domain_id = ${domainId} and b.budget_id = ${budgetId}`;
}

/**
 * Sums each target's period in one statement: `targets` yields (budget_id, period); each sum runs
 * over the cost rows of the budget's domain and currency inside the period ("YYYY-MM-01" … "YYYY-MM-31",
 * a range on the (domain_id, date, …) index) that match the budget's filters. Numeric
 * all the way; the text comes back exact.
 */
async function usageOf(db: DatabaseExecutor, targets: SQL): Promise<PeriodUsage[]> {
  const rows = await queryRows<Record<string, unknown> & { period: string; usage: string }>(
    db,
    sql`select b.*, t.period, (
          select coalesce(sum(c.cost), 0) from ${costs} c
          where c.domain_id = b.domain_id
            and c.date between t.period || (case when length(t.period) = 4 then '-01-01' else '-01' end)
                           and t.period || (case when length(t.period) = 4 then '-12-31' else '-31' end)
            and c.currency = b.currency
            and (b.workspace_id = '' or c.workspace_id = b.workspace_id)
            and (b.data_source_id = '' or c.data_source_id = b.data_source_id)
            and (b.project_id = '' or c.tags @> jsonb_build_object('project_id', b.project_id))
            and c.tags @> b.tag_filter
        )::text as usage
        from (${targets}) t join ${budgets} b on b.budget_id = t.budget_id`,
  );
  return rows.map((row) => ({ budget: budgetFromSql(row), period: row.period, usage: new Decimal(row.usage) }));
}

/** A raw `select b.*` row as the Drizzle row type. */
function budgetFromSql(row: Record<string, unknown>): BudgetRow {
  const json = <T>(value: unknown): T => (typeof value === "string" ? JSON.parse(value) : value) as T;
  return {
    budgetId: row.budget_id as string,
    domainId: row.domain_id as string,
    workspaceId: row.workspace_id as string,
    projectId: row.project_id as string,
    dataSourceId: row.data_source_id as string,
    tagFilter: json(row.tag_filter),
    name: row.name as string,
    currency: row.currency as string,
    timeUnit: row.time_unit as BudgetRow["timeUnit"],
    limitAmount: String(row.limit_amount),
    plannedLimits: json(row.planned_limits),
    thresholds: json(row.thresholds),
    tags: json(row.tags),
    createdAt: new Date(row.created_at as string),
    updatedAt: new Date(row.updated_at as string),
  };
}
