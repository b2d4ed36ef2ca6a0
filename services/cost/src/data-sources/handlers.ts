import { randomUUID } from "node:crypto";
import type { ServiceImpl } from "@connectrpc/connect";
import { missingParameter, notFound } from "@cloudforet/errors";
import { DataSourceService } from "@cloudforet/proto/cloudforet/cost/v1/data_source_pb";
import { domainScope, validateTags } from "@cloudforet/query";
import { callerOf, requireDomainAccess } from "@cloudforet/runtime";
import { requiredLabel, validateDataSourceId, validateWorkspaceId } from "./data-sources";
import type { DataSourceRepository } from "./repository";
import { fromListRow, toMessage } from "./to-message";

export function dataSourceHandlers(repo: DataSourceRepository): ServiceImpl<typeof DataSourceService> {
  const existing = async (ctx: Parameters<typeof callerOf>[0], dataSourceId: string) => {
    if (!dataSourceId) throw missingParameter("data_source_id");
    const row = await repo.get(domainScope(callerOf(ctx)), dataSourceId);
    if (!row) throw notFound("Data source not found", { data_source_id: dataSourceId });
    return row;
  };

  return {
    async create(req, ctx) {
      const caller = callerOf(ctx);
      requireDomainAccess(caller, "write");
      const dataSourceId = req.dataSourceId ? validateDataSourceId(req.dataSourceId) : `ds-${randomUUID()}`;
      const row = await repo.create({
        dataSourceId,
        domainId: caller.domainId,
        workspaceId: validateWorkspaceId(req.workspaceId),
        name: requiredLabel(req.name, "name"),
        provider: requiredLabel(req.provider, "provider", 64),
        tags: validateTags(req.tags),
      });
      return toMessage(row);
    },

    async get(req, ctx) {
      return toMessage(await existing(ctx, req.dataSourceId));
    },

    async list(req, ctx) {
      const { results, total_count } = await repo.list(domainScope(callerOf(ctx)), req.query);
      return { results: results.map(fromListRow), totalCount: total_count };
    },

    async delete(req, ctx) {
      const caller = callerOf(ctx);
      requireDomainAccess(caller, "write");
      const row = await existing(ctx, req.dataSourceId);
      if (!(await repo.delete(domainScope(caller), row.dataSourceId))) {
        throw notFound("Data source not found", { data_source_id: req.dataSourceId });
      }
      return {};
    },
  };
}
