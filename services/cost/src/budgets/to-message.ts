import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Budget_Threshold_Severity, Budget_Threshold_Unit, Budget_TimeUnit } from "@cloudforet/proto/cloudforet/cost/v1/budget_pb";
import type { BudgetRow, StoredThreshold } from "../db/schema";
import type { PeriodStat } from "./repository";

/** The wire shape of a budget (Create/Update/Get responses and List results); amounts cross as doubles once, here. */
export function toMessage(row: Partial<BudgetRow>) {
  return {
    budgetId: row.budgetId,
    name: row.name,
    workspaceId: row.workspaceId,
    projectId: row.projectId,
    dataSourceId: row.dataSourceId,
    tagFilter: row.tagFilter,
    currency: row.currency,
    timeUnit: row.timeUnit ? Budget_TimeUnit[row.timeUnit] : undefined,
    limit: row.limitAmount === undefined ? undefined : Number(row.limitAmount),
    plannedLimits: Object.entries(row.plannedLimits ?? {})
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([period, limit]) => ({ period, limit: Number(limit) })),
    thresholds: (row.thresholds ?? []).map(thresholdMessage),
    tags: row.tags,
    domainId: row.domainId,
    createdAt: row.createdAt ? timestampFromDate(new Date(row.createdAt)) : undefined,
    updatedAt: row.updatedAt ? timestampFromDate(new Date(row.updatedAt)) : undefined,
  };
}

function thresholdMessage(t: StoredThreshold) {
  return { value: Number(t.value), unit: Budget_Threshold_Unit[t.unit], severity: Budget_Threshold_Severity[t.severity] };
}

/** List rows come back keyed by query field name. */
export function fromListRow(row: Record<string, unknown>) {
  return toMessage({
    budgetId: row.budget_id as string | undefined,
    name: row.name as string | undefined,
    workspaceId: row.workspace_id as string | undefined,
    projectId: row.project_id as string | undefined,
    dataSourceId: row.data_source_id as string | undefined,
    tagFilter: row.tag_filter as Record<string, string> | undefined,
    currency: row.currency as string | undefined,
    timeUnit: row.time_unit as BudgetRow["timeUnit"] | undefined,
    limitAmount: row.limit === undefined ? undefined : String(row.limit),
    plannedLimits: row.planned_limits as Record<string, string> | undefined,
    thresholds: row.thresholds as StoredThreshold[] | undefined,
    tags: row.tags as Record<string, string> | undefined,
    domainId: row.domain_id as string | undefined,
    createdAt: row.created_at as Date | undefined,
    updatedAt: row.updated_at as Date | undefined,
  });
}

/** One Stat row. */
export function statRow(stat: PeriodStat) {
  return {
    budgetId: stat.budget.budgetId,
    name: stat.budget.name,
    period: stat.period,
    currency: stat.budget.currency,
    usage: stat.usage.toNumber(),
    limit: stat.limit.toNumber(),
    usagePercent: stat.usagePercent.toNumber(),
    forecast: stat.forecast.toNumber(),
    forecastPercent: stat.forecastPercent.toNumber(),
    elapsedDays: stat.days.elapsed,
    periodDays: stat.days.total,
    notifiedThresholds: stat.notified,
  };
}
