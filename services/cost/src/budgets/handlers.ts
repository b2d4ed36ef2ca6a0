import { randomUUID } from "node:crypto";
import type { ServiceImpl } from "@connectrpc/connect";
import { invalidParameter, missingParameter, notFound } from "@cloudforet/errors";
import { Budget_Threshold_Severity, Budget_Threshold_Unit, Budget_TimeUnit, BudgetService, type Budget_Threshold } from "@cloudforet/proto/cloudforet/cost/v1/budget_pb";
import { domainScope, QUERY_LIMITS, tenantScope, validateTags } from "@cloudforet/query";
import { callerOf } from "@cloudforet/runtime";
import { requireWrite } from "../costs/costs";
import type { DataSourceRepository } from "../data-sources/repository";
import { amountOf, checkCurrency, checkName, checkOptionalId, checkPlannedLimits, checkTagFilter, checkThresholds, type ThresholdInput, type TimeUnit } from "./budgets";
import type { BudgetRepository } from "./repository";
import { fromListRow, statRow, toMessage } from "./to-message";

const statPeriodPattern = /^\d{4}(-(0[1-9]|1[0-2]))?$/;

export function budgetHandlers(repo: BudgetRepository, dataSources: DataSourceRepository): ServiceImpl<typeof BudgetService> {
  const existing = async (ctx: Parameters<typeof callerOf>[0], budgetId: string) => {
    if (!budgetId) throw missingParameter("budget_id");
    const row = await repo.get(tenantScope(callerOf(ctx)), budgetId);
    if (!row) throw notFound("Budget not found", { budget_id: budgetId });
    return row;
  };

  return {
    async create(req, ctx) {
      const caller = callerOf(ctx);
      const name = checkName(req.name);
      const workspaceId = checkOptionalId(req.workspaceId, "workspace_id");
      const timeUnit = timeUnitOf(req.timeUnit);
      const budget = {
        budgetId: `budget-${randomUUID()}`,
        domainId: caller.domainId,
        workspaceId,
        projectId: checkOptionalId(req.projectId, "project_id"),
        dataSourceId: checkOptionalId(req.dataSourceId, "data_source_id"),
        tagFilter: checkTagFilter(req.tagFilter),
        name,
        currency: checkCurrency(req.currency),
        timeUnit,
        limitAmount: amountOf(req.limit, "limit"),
        plannedLimits: checkPlannedLimits(req.plannedLimits, timeUnit),
        thresholds: checkThresholds(req.thresholds.map(thresholdInput)),
        tags: validateTags(req.tags),
      };
      requireWrite(caller, workspaceId);
      if (budget.dataSourceId && !(await dataSources.get(domainScope(caller), budget.dataSourceId))) {
        throw notFound("Data source not found", { data_source_id: budget.dataSourceId });
      }
      return toMessage(await repo.create(budget));
    },

    async update(req, ctx) {
      const caller = callerOf(ctx);
      const row = await existing(ctx, req.budgetId);
      requireWrite(caller, row.workspaceId);
      const updated = await repo.update(tenantScope(caller), row.budgetId, {
        ...(req.name !== undefined ? { name: checkName(req.name) } : {}),
        ...(req.limit !== undefined ? { limitAmount: amountOf(req.limit, "limit") } : {}),
        ...(req.replacePlannedLimits ? { plannedLimits: checkPlannedLimits(req.plannedLimits, row.timeUnit) } : {}),
        ...(req.replaceThresholds ? { thresholds: checkThresholds(req.thresholds.map(thresholdInput)) } : {}),
        ...(req.replaceTags ? { tags: validateTags(req.tags) } : {}),
      });
      if (!updated) throw notFound("Budget not found", { budget_id: req.budgetId });
      return toMessage(updated);
    },

    async delete(req, ctx) {
      const caller = callerOf(ctx);
      const row = await existing(ctx, req.budgetId);
      requireWrite(caller, row.workspaceId);
      if (!(await repo.delete(tenantScope(caller), row.budgetId))) throw notFound("Budget not found", { budget_id: req.budgetId });
      return {};
    },

    async get(req, ctx) {
      return toMessage(await existing(ctx, req.budgetId));
    },

    async list(req, ctx) {
      const { results, total_count } = await repo.list(tenantScope(callerOf(ctx)), req.query);
      return { results: results.map(fromListRow), totalCount: total_count };
    },

    async stat(req, ctx) {
      if (req.period && !statPeriodPattern.test(req.period)) {
        throw invalidParameter("period must be YYYY-MM or YYYY", { parameter: "period", value: req.period });
      }
      if (req.budgetId) {
        const row = await existing(ctx, req.budgetId);
        if (req.period.length === 4 && row.timeUnit === "MONTHLY") {
          throw invalidParameter("period of a MONTHLY budget is YYYY-MM", { parameter: "period", value: req.period });
        }
      }
      const limit = req.page?.limit || QUERY_LIMITS.defaultPageLimit;
      const offset = req.page?.start ?? 0;
      if (limit < 1 || limit > QUERY_LIMITS.maxPageLimit) throw invalidParameter(`page.limit must be 1 to ${QUERY_LIMITS.maxPageLimit}`, { parameter: "page.limit", value: limit });
      if (offset < 0) throw invalidParameter("page.start must not be negative", { parameter: "page.start", value: offset });
      const { rows, totalCount } = await repo.stat(tenantScope(callerOf(ctx)), { budgetId: req.budgetId || undefined, period: req.period, limit, offset });
      return { results: rows.map(statRow), totalCount };
    },
  };
}

function timeUnitOf(value: Budget_TimeUnit): TimeUnit {
  const name = Budget_TimeUnit[value] as TimeUnit | undefined;
  if (!name) throw invalidParameter("time_unit must be MONTHLY or YEARLY", { parameter: "time_unit", value });
  return name;
}

function thresholdInput(t: Budget_Threshold, index: number): ThresholdInput {
  const unit = Budget_Threshold_Unit[t.unit] as ThresholdInput["unit"] | undefined;
  if (!unit) throw invalidParameter("unit must be PERCENT or ACTUAL_COST", { parameter: `thresholds[${index}].unit`, value: t.unit });
  const severity = Budget_Threshold_Severity[t.severity] as ThresholdInput["severity"] | undefined;
  if (!severity) throw invalidParameter("severity must be WARNING or CRITICAL", { parameter: `thresholds[${index}].severity`, value: t.severity });
  return { value: t.value, unit, severity };
}
