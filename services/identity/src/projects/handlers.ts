import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { ProjectService } from "@cloudforet/proto/cloudforet/identity/v1/project_pb";
import { Access } from "../access/access";
import type { ProjectRow } from "../db/schema";
import { listRow } from "../list-rows";
import type { ProjectRules } from "./rules";

function toMessage(row: ProjectRow) {
  return {
    projectId: row.projectId,
    name: row.name,
    workspaceId: row.workspaceId,
    tags: row.tags,
    domainId: row.domainId,
    createdAt: timestampFromDate(row.createdAt),
    updatedAt: timestampFromDate(row.updatedAt),
  };
}

function fromListRow(raw: Record<string, unknown>) {
  const row = listRow(raw);
  return {
    projectId: row.text("project_id"),
    name: row.text("name"),
    workspaceId: row.text("workspace_id"),
    tags: row.tags("tags"),
    domainId: row.text("domain_id"),
    createdAt: row.time("created_at"),
    updatedAt: row.time("updated_at"),
  };
}

export function projectHandlers(rules: ProjectRules): ServiceImpl<typeof ProjectService> {
  return {
    async create(req, ctx) {
      return toMessage(await rules.create(Access.of(ctx), req));
    },
    async get(req, ctx) {
      return toMessage(await rules.get(Access.of(ctx), req.projectId));
    },
    async list(req, ctx) {
      const { results, total_count } = await rules.list(Access.of(ctx), req.query);
      return { results: results.map(fromListRow), totalCount: total_count };
    },
    async update(req, ctx) {
      return toMessage(await rules.update(Access.of(ctx), { projectId: req.projectId, name: req.name, tags: req.tags, removeTags: req.removeTags }));
    },
    async delete(req, ctx) {
      await rules.delete(Access.of(ctx), req.projectId);
      return {};
    },
  };
}
