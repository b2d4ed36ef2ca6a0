import type { ServiceImpl } from "@connectrpc/connect";
import { missingParameter, notFound } from "@cloudforet/errors";
import { ChangeHistoryService } from "@cloudforet/proto/cloudforet/cloud_service/v1/change_history_pb";
import { tenantScope, type QueryInput } from "@cloudforet/query";
import { callerOf } from "@cloudforet/runtime";
import { checkId } from "../cloud-services/cloud-services";
import type { ChangeHistoryRepository } from "./repository";
import { changeMessage } from "./to-message";

export function changeHistoryHandlers(history: ChangeHistoryRepository): ServiceImpl<typeof ChangeHistoryService> {
  return {
    async list(req, ctx) {
      if (req.cloudServiceId) checkId("cloud_service_id", req.cloudServiceId);
      const { results, total_count, total_count_exact } = await history.list(tenantScope(callerOf(ctx)), (req.query ?? {}) as QueryInput, req.cloudServiceId || undefined);
      return { results: results.map(changeMessage), totalCount: total_count, totalCountExact: total_count_exact };
    },

    async get(req, ctx) {
      if (!req.changeId) throw missingParameter("change_id");
      checkId("change_id", req.changeId);
      const row = await history.get(tenantScope(callerOf(ctx)), req.changeId);
      if (!row) throw notFound("Change not found", { change_id: req.changeId });
      return {
        change: changeMessage({
          change_id: row.changeId,
          cloud_service_id: row.cloudServiceId,
          action: row.action,
          diff: row.diff,
          diff_count: row.diffCount,
          updated_by: row.updatedBy,
          author_id: row.authorId,
          user_id: row.userId,
          collector_id: row.collectorId,
          job_id: row.jobId,
          job_task_id: row.jobTaskId,
          collector_rule_id: row.collectorRuleId,
          workspace_id: row.workspaceId,
          domain_id: row.domainId,
          created_at: row.createdAt,
        }),
      };
    },
  };
}
