import type { ServiceImpl } from "@connectrpc/connect";
import { WorkspaceService, Workspace_State } from "@cloudforet/proto/cloudforet/identity/v1/workspace_pb";
import { Access } from "../access/access";
import { stateName, type WorkspaceRules } from "./workspaces";
import { fromListRow, toMessage } from "./to-message";

export function workspaceHandlers(rules: WorkspaceRules): ServiceImpl<typeof WorkspaceService> {
  return {
    async create(req, ctx) {
      return toMessage(await rules.create(Access.of(ctx), req));
    },
    async get(req, ctx) {
      return toMessage(await rules.get(Access.of(ctx), req.workspaceId));
    },
    async list(req, ctx) {
      const { results, total_count } = await rules.list(Access.of(ctx), req.query);
      return { results: results.map(fromListRow), totalCount: total_count };
    },
    async update(req, ctx) {
      const row = await rules.update(Access.of(ctx), {
        workspaceId: req.workspaceId,
        name: req.name,
        state: stateName(req.state, Workspace_State),
        tags: req.tags,
        removeTags: req.removeTags,
      });
      return toMessage(row);
    },
    async delete(req, ctx) {
      await rules.delete(Access.of(ctx), req.workspaceId);
      return {};
    },
  };
}
