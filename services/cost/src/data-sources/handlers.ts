import { randomUUID } from "node:crypto";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { missingParameter, notFound } from "@cloudforet/errors";
import { DataSourceService } from "@cloudforet/proto/cloudforet/cost/v1/data_source_pb";
import { callerOf, requireDomainAccess } from "@cloudforet/runtime";
import { domainScope } from "../access/workspace-scope";
import type { DataSourceRow } from "../db/schema";
import { validateTags } from "../tags";
import type { DataSourceRepository } from "./repository";
import { requiredLabel, validateDataSourceId, validateWorkspaceId } from "./rules";

/** The wire shape of a data source (Create/Get responses and List results). */
function toMessage(row: Partial<DataSourceRow>) {
  return {
    dataSourceId: row.dataSourceId,
    name: row.name,
    provider: row.provider,
    tags: row.tags,
    domainId: row.domainId,
    workspaceId: row.workspaceId,
    createdAt: row.createdAt ? timestampFromDate(row.createdAt) : undefined,
    updatedAt: row.updatedAt ? timestampFromDate(row.updatedAt) : undefined,
  };
}

/** List rows come back keyed by query field name. */
function fromListRow(row: Record<string, unknown>) {
  return toMessage({
    dataSourceId: row.data_source_id as string | undefined,
    name: row.name as string | undefined,
    provider: row.provider as string | undefined,
    tags: row.tags as Record<string, string> | undefined,
    domainId: row.domain_id as string | undefined,
    workspaceId: row.workspace_id as string | undefined,
    createdAt: row.created_at as Date | undefined,
    updatedAt: row.updated_at as Date | undefined,
  });
}

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
