import type { ServiceImpl } from "@connectrpc/connect";
import { ProjectService } from "@cloudforet/proto/cloudforet/identity/v1/project_pb";
import { Access } from "../access/access";
import type { ProjectRules } from "./projects";
import { fromListRow, toMessage } from "./to-message";

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
