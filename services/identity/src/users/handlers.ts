import type { ServiceImpl } from "@connectrpc/connect";
import { RoleBinding_Role, User_State, UserService } from "@cloudforet/proto/cloudforet/identity/v1/user_pb";
import { peerAddressOf } from "@cloudforet/runtime";
import { Access } from "../access/access";
import { stateName } from "../workspaces/workspaces";
import { fromListRow, toMessage } from "./to-message";
import type { UserRules } from "./users";

/** The wire role's name ("NONE", "DOMAIN_ADMIN", …), or undefined for a number the contract lacks. */
const roleName = (role: RoleBinding_Role): string | undefined => RoleBinding_Role[role];

export function userHandlers(rules: UserRules): ServiceImpl<typeof UserService> {
  return {
    async create(req, ctx) {
      const created = await rules.create(Access.of(ctx), {
        userId: req.userId,
        password: req.password,
        name: req.name,
        email: req.email,
        roleBindings: req.roleBindings.map((b) => ({ role: roleName(b.role), workspaceId: b.workspaceId })),
        tags: req.tags,
      });
      return toMessage(created);
    },

    async get(req, ctx) {
      return toMessage(await rules.get(Access.of(ctx), req.userId));
    },

    async list(req, ctx) {
      const access = Access.of(ctx);
      const { results, total_count } = await rules.list(access, req.query);
      return {
        results: results.map(fromListRow),
        totalCount: total_count,
      };
    },

    async update(req, ctx) {
      const updated = await rules.update(Access.of(ctx), {
        userId: req.userId,
        name: req.name,
        email: req.email,
        state: stateName(req.state, User_State),
        tags: req.tags,
        removeTags: req.removeTags,
      });
      return toMessage(updated);
    },

    async delete(req, ctx) {
      await rules.delete(Access.of(ctx), req.userId);
      return {};
    },

    async setPassword(req, ctx) {
      return toMessage(await rules.setPassword(Access.of(ctx), req, peerAddressOf(ctx)));
    },

    async addRoleBinding(req, ctx) {
      return toMessage(await rules.addRoleBinding(Access.of(ctx), { userId: req.userId, role: roleName(req.role), workspaceId: req.workspaceId }));
    },

    async removeRoleBinding(req, ctx) {
      return toMessage(await rules.removeRoleBinding(Access.of(ctx), { userId: req.userId, role: roleName(req.role), workspaceId: req.workspaceId }));
    },
  };
}
