import { randomUUID } from "node:crypto";
import { and, asc, eq, lte, min, sql } from "drizzle-orm";
import type { Database, DatabaseExecutor } from "@cloudforet/db";
import { col, defineQueryFields, json, listWith, scopeCondition, type QueryInput, type TenantScope } from "@cloudforet/query";
import { alertRules, alertRuleSeries, type AlertRuleRow, type AlertRuleSeriesRow } from "../db/schema";
import { noticeAlertingChanged } from "../alerts/repository";
import type { RuleDefinition } from "./alert-rules";

export const alertRuleFields = defineQueryFields(
  {
    alert_rule_id: col(alertRules.alertRuleId),
    name: col(alertRules.name),
    description: col(alertRules.description),
    metric_name: col(alertRules.metricName),
    resource_ids: json(alertRules.resourceIds),
    dimensions: json(alertRules.dimensions),
    group_by: json(alertRules.groupBy),
    aggregation: col(alertRules.aggregation),
    window_seconds: col(alertRules.windowSeconds, "number"),
    comparison: col(alertRules.comparison),
    threshold: col(alertRules.threshold, "number"),
    for_seconds: col(alertRules.forSeconds, "number"),
    interval_seconds: col(alertRules.intervalSeconds, "number"),
    severity: col(alertRules.severity),
    labels: json(alertRules.labels),
    channels: json(alertRules.channels),
    escalation_policy_id: col(alertRules.escalationPolicyId),
    enabled: col(alertRules.enabled, "boolean"),
    next_evaluation_at: col(alertRules.nextEvaluationAt),
    domain_id: col(alertRules.domainId),
    workspace_id: col(alertRules.workspaceId),
    created_at: col(alertRules.createdAt),
    updated_at: col(alertRules.updatedAt),
  },
  { keywordFields: ["name", "metric_name"], defaultSort: [{ key: "created_at" }, { key: "alert_rule_id" }] },
);

const readable = (scope: TenantScope) => scopeCondition(scope, alertRules, { domainWideRows: true });

export class AlertRuleRepository {
  constructor(private readonly db: Database) {}

  /** Stores a rule, due for its first evaluation now; every replica's scheduler hears of it. */
  async create(domainId: string, workspaceId: string, definition: RuleDefinition): Promise<AlertRuleRow> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx
        .insert(alertRules)
        .values({ alertRuleId: `alert-rule-${randomUUID()}`, domainId, workspaceId, ...definition, nextEvaluationAt: sql`now()` })
        .returning();
      await noticeAlertingChanged(tx);
      return row;
    });
  }

  /** Replaces a rule's definition; its series restart from OK (their alerts stay as they are). */
  async update(row: AlertRuleRow, definition: RuleDefinition): Promise<AlertRuleRow> {
    return this.db.transaction(async (tx) => {
      const [updated] = await tx
        .update(alertRules)
        .set({ ...definition, nextEvaluationAt: sql`now()`, updatedAt: sql`now()` })
        .where(eq(alertRules.alertRuleId, row.alertRuleId))
        .returning();
      await tx.delete(alertRuleSeries).where(eq(alertRuleSeries.alertRuleId, row.alertRuleId));
      await noticeAlertingChanged(tx);
      return updated;
    });
  }

  async get(scope: TenantScope, id: string): Promise<AlertRuleRow | undefined> {
    const [row] = await this.db.select().from(alertRules).where(and(readable(scope), eq(alertRules.alertRuleId, id)));
    return row;
  }

  list(scope: TenantScope, query: QueryInput) {
    return listWith(this.db, alertRules, alertRuleFields, query, readable(scope));
  }

  async series(alertRuleId: string): Promise<AlertRuleSeriesRow[]> {
    return this.db.select().from(alertRuleSeries).where(eq(alertRuleSeries.alertRuleId, alertRuleId)).orderBy(asc(alertRuleSeries.seriesKey)).limit(1000);
  }

  async delete(row: AlertRuleRow): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      await tx.delete(alertRuleSeries).where(eq(alertRuleSeries.alertRuleId, row.alertRuleId));
      const deleted = await tx.delete(alertRules).where(eq(alertRules.alertRuleId, row.alertRuleId)).returning({ id: alertRules.alertRuleId });
      return deleted.length > 0;
    });
  }

  /** Claims one due rule inside `tx` (FOR UPDATE SKIP LOCKED: a rule another replica evaluates is skipped). */
  static async claimDue(tx: DatabaseExecutor, now: Date): Promise<AlertRuleRow | undefined> {
    const [row] = await tx
      .select()
      .from(alertRules)
      .where(and(eq(alertRules.enabled, true), lte(alertRules.nextEvaluationAt, now)))
      .orderBy(asc(alertRules.nextEvaluationAt))
      .limit(1)
      .for("update", { skipLocked: true });
    return row;
  }

  /** The next evaluation: one interval after the due time, or after now when the rule ran late. */
  static async scheduleNext(tx: DatabaseExecutor, rule: AlertRuleRow, now: Date): Promise<void> {
    const intervalMs = rule.intervalSeconds * 1000;
    const onTime = rule.nextEvaluationAt.getTime() + intervalMs;
    const next = onTime > now.getTime() ? onTime : now.getTime() + intervalMs;
    await tx.update(alertRules).set({ nextEvaluationAt: new Date(next) }).where(eq(alertRules.alertRuleId, rule.alertRuleId));
  }

  static async seriesOf(tx: DatabaseExecutor, alertRuleId: string): Promise<AlertRuleSeriesRow[]> {
    return tx.select().from(alertRuleSeries).where(eq(alertRuleSeries.alertRuleId, alertRuleId));
  }

  static async saveSeries(tx: DatabaseExecutor, row: AlertRuleSeriesRow): Promise<void> {
    await tx
      .insert(alertRuleSeries)
      .values(row)
      .onConflictDoUpdate({
        target: [alertRuleSeries.alertRuleId, alertRuleSeries.seriesKey],
        set: { state: row.state, value: row.value, pendingSince: row.pendingSince, firingSince: row.firingSince, alertId: row.alertId, evaluatedAt: row.evaluatedAt, labels: row.labels },
      });
  }

  static async dropSeries(tx: DatabaseExecutor, alertRuleId: string, seriesKey: string): Promise<void> {
    await tx.delete(alertRuleSeries).where(and(eq(alertRuleSeries.alertRuleId, alertRuleId), eq(alertRuleSeries.seriesKey, seriesKey)));
  }

  /** When the next enabled rule falls due (undefined: none). */
  async nextDueAt(): Promise<Date | undefined> {
    const [row] = await this.db.select({ at: min(alertRules.nextEvaluationAt) }).from(alertRules).where(eq(alertRules.enabled, true));
    return row?.at ?? undefined;
  }
}
