import { randomUUID } from "node:crypto";
import type { ServiceImpl } from "@connectrpc/connect";
import { echoedValue, invalidParameter, missingParameter, notFound, payloadTooLarge } from "@cloudforet/errors";
import { CostService } from "@cloudforet/proto/cloudforet/cost/v1/cost_pb";
import { tenantScope } from "@cloudforet/query";
import { callerOf } from "@cloudforet/runtime";
import type { DataSourceRepository } from "../data-sources/repository";
import { readAnalyzeRequest } from "./analysis";
import { MAX_BATCH_ROWS, checkCost, costTarget, problemError, type CostProblem } from "./costs";
import type { CostRepository, StoredCost } from "./repository";
import { batchResponse, createdMessage, fromListRow, toMessage, type StoredBatchResponse } from "./to-message";

export function costHandlers(costs: CostRepository, dataSources: DataSourceRepository): ServiceImpl<typeof CostService> {
  return {
    async create(req, ctx) {
      const checked = checkCost(req);
      if (!checked.ok) throw problemError(checked.problem);
      const target = await costTarget(callerOf(ctx), dataSources, req.dataSourceId, "");
      const row = await costs.createOne(target, { costId: `cost-${randomUUID()}`, ...checked.row });
      return createdMessage(row);
    },

    async batchCreate(req, ctx) {
      if (req.costs.length === 0) throw invalidParameter("costs must hold 1 to 10,000 rows", { parameter: "costs" });
      if (req.costs.length > MAX_BATCH_ROWS) throw payloadTooLarge("A batch holds at most 10,000 rows", { parameter: "costs", value: req.costs.length });
      if (req.idempotencyKey.length > 255) throw invalidParameter("idempotency_key must be at most 255 characters", { parameter: "idempotency_key" });
      const target = await costTarget(callerOf(ctx), dataSources, req.dataSourceId, `job-cost-${randomUUID()}`);
      const rows: StoredCost[] = [];
      const failures: StoredBatchResponse["failures"] = [];
      req.costs.forEach((item, index) => {
        const checked = checkCost(item);
        if (checked.ok) rows.push({ costId: `cost-${randomUUID()}`, ...checked.row });
        else failures.push(failureOf(index, checked.problem));
      });
      const { response } = await costs.createBatch(target, rows, req.idempotencyKey, (totals) => ({
        created_count: totals.count,
        failed_count: failures.length,
        total_cost: totals.total,
        job_id: target.jobId,
        failures,
      }));
      return batchResponse(response as StoredBatchResponse);
    },

    async get(req, ctx) {
      if (!req.costId) throw missingParameter("cost_id");
      const row = await costs.get(tenantScope(callerOf(ctx)), req.costId);
      if (!row) throw notFound("Cost not found", { cost_id: req.costId });
      return toMessage(row);
    },

    async list(req, ctx) {
      const { results, total_count } = await costs.list(tenantScope(callerOf(ctx)), req.query);
      return { results: results.map(fromListRow), totalCount: total_count };
    },

    async analyze(req, ctx) {
      const analysis = readAnalyzeRequest(req);
      const { rows, totalCount } = await costs.analyze({ scope: tenantScope(callerOf(ctx)), ...analysis });
      return {
        results: rows.map((row) => ({
          date: row.period,
          groups: Object.fromEntries(analysis.groups.map((group, index) => [group.key, row.groups[index] ?? ""])),
          cost: Number(row.total),
          currency: row.currency,
        })),
        totalCount,
      };
    },
  };
}

function failureOf(index: number, problem: CostProblem): StoredBatchResponse["failures"][number] {
  // The value goes into the stored batch response (jsonb) and back to the caller: printable and short.
  const value = typeof problem.value === "string" ? echoedValue(problem.value) : (problem.value ?? null);
  return { index, parameter: problem.parameter, value, message: problem.message };
}
