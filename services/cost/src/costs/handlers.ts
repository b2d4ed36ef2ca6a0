import { randomUUID } from "node:crypto";
import { fromJson, type JsonObject, type JsonValue } from "@bufbuild/protobuf";
import { ValueSchema, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { invalidParameter, missingParameter, notFound, payloadTooLarge } from "@cloudforet/errors";
import { CostService } from "@cloudforet/proto/cloudforet/cost/v1/cost_pb";
import { callerOf } from "@cloudforet/runtime";
import { defaultWriteWorkspace, domainScope, readScope, requireWrite } from "../access/workspace-scope";
import type { CostRow } from "../db/schema";
import type { DataSourceRepository } from "../data-sources/repository";
import { readAnalyzeRequest } from "./analysis";
import type { CostRepository, CostTarget, StoredCost } from "./repository";
import { MAX_BATCH_ROWS, checkCost, problemError, type CostProblem } from "./rules";

/** Every field of a stored row (Get response, List result). */
function toMessage(row: Partial<CostRow>) {
  return {
    costId: row.costId,
    dataSourceId: row.dataSourceId,
    date: row.date,
    cost: row.cost === undefined ? undefined : Number(row.cost),
    currency: row.currency,
    resourceId: row.resourceId,
    resourceType: row.resourceType,
    region: row.region,
    tags: row.tags,
    jobId: row.jobId,
    domainId: row.domainId,
    workspaceId: row.workspaceId,
    createdAt: row.createdAt ? timestampFromDate(row.createdAt) : undefined,
  };
}

function fromListRow(row: Record<string, unknown>) {
  return toMessage({
    costId: row.cost_id as string | undefined,
    dataSourceId: row.data_source_id as string | undefined,
    date: row.date as string | undefined,
    cost: row.cost as string | undefined,
    currency: row.currency as string | undefined,
    resourceId: row.resource_id as string | undefined,
    resourceType: row.resource_type as string | undefined,
    region: row.region as string | undefined,
    tags: row.tags as Record<string, string> | undefined,
    jobId: row.job_id as string | undefined,
    domainId: row.domain_id as string | undefined,
    workspaceId: row.workspace_id as string | undefined,
    createdAt: row.created_at as Date | undefined,
  });
}

/** The batch response as stored for idempotent replays: the total stays decimal text. */
interface StoredBatchResponse extends JsonObject {
  created_count: number;
  failed_count: number;
  total_cost: string;
  job_id: string;
  failures: { index: number; parameter: string; value: JsonValue; message: string }[];
}

function batchResponse(stored: StoredBatchResponse) {
  return {
    createdCount: stored.created_count,
    failedCount: stored.failed_count,
    totalCost: Number(stored.total_cost),
    jobId: stored.job_id,
    failures: stored.failures.map((failure) => ({
      index: failure.index,
      parameter: failure.parameter,
      value: failure.value === null ? undefined : fromJson(ValueSchema, failure.value),
      message: failure.message,
    })),
  };
}

export function costHandlers(costs: CostRepository, dataSources: DataSourceRepository): ServiceImpl<typeof CostService> {
  /** The data source's workspace, or the caller's when the row comes without a source. */
  const targetOf = async (ctx: HandlerContext, dataSourceId: string, jobId: string): Promise<CostTarget> => {
    const caller = callerOf(ctx);
    if (!dataSourceId) return { domainId: caller.domainId, workspaceId: defaultWriteWorkspace(caller), dataSourceId: "", jobId };
    const source = await dataSources.get(domainScope(caller), dataSourceId);
    if (!source) throw notFound("Data source not found", { data_source_id: dataSourceId });
    requireWrite(caller, source.workspaceId);
    return { domainId: caller.domainId, workspaceId: source.workspaceId, dataSourceId, jobId };
  };

  return {
    async create(req, ctx) {
      const checked = checkCost(req);
      if (!checked.ok) throw problemError(checked.problem);
      const target = await targetOf(ctx, req.dataSourceId, "");
      const row = await costs.createOne(target, { costId: `cost-${randomUUID()}`, ...checked.row });
      return { costId: row.costId, date: row.date, cost: Number(row.cost), resourceId: row.resourceId, createdAt: timestampFromDate(row.createdAt) };
    },

    async batchCreate(req, ctx) {
      if (req.costs.length === 0) throw invalidParameter("costs must hold 1 to 10,000 rows", { parameter: "costs" });
      if (req.costs.length > MAX_BATCH_ROWS) throw payloadTooLarge("A batch holds at most 10,000 rows", { parameter: "costs", value: req.costs.length });
      if (req.idempotencyKey.length > 255) throw invalidParameter("idempotency_key must be at most 255 characters", { parameter: "idempotency_key" });
      const target = await targetOf(ctx, req.dataSourceId, `job-cost-${randomUUID()}`);
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
      const row = await costs.get(readScope(callerOf(ctx)), req.costId);
      if (!row) throw notFound("Cost not found", { cost_id: req.costId });
      return toMessage(row);
    },

    async list(req, ctx) {
      const { results, total_count } = await costs.list(readScope(callerOf(ctx)), req.query);
      return { results: results.map(fromListRow), totalCount: total_count };
    },

    async analyze(req, ctx) {
      const analysis = readAnalyzeRequest(req);
      const { rows, totalCount } = await costs.analyze({ scope: readScope(callerOf(ctx)), ...analysis });
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
  return { index, parameter: problem.parameter, value: problem.value ?? null, message: problem.message };
}
