import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { RoleBinding_Role, User_State, UserService } from "@cloudforet/proto/cloudforet/identity/v1/user_pb";
import { Access } from "../access/access";
import type { RoleBindingRow } from "../db/schema";
import { listRow, optionalTime } from "../list-rows";
import { stateName } from "../workspaces/rules";
import type { UserWithBindings } from "./repository";
import type { UserRules } from "./rules";

const toBinding = (row: RoleBindingRow) => ({ role: RoleBinding_Role[row.role], workspaceId: row.workspaceId, createdAt: timestampFromDate(row.createdAt) });

/** Every user response has the whole user; never the password hash. */
function toMessage({ user, bindings }: UserWithBindings) {
  return {
    userId: user.userId,
    name: user.name,
    email: user.email,
    state: User_State[user.state],
    roleBindings: bindings.map(toBinding),
    tags: user.tags,
    domainId: user.domainId,
    createdAt: timestampFromDate(user.createdAt),
    updatedAt: timestampFromDate(user.updatedAt),
    lastLoginAt: optionalTime(user.lastLoginAt),
  };
}

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
      const trimmed = (req.query?.only.length ?? 0) > 0;
      const bindings = trimmed ? new Map<string, RoleBindingRow[]>() : await rules.bindingsOf(access, results.map((r) => String(r.user_id)));
      return {
        results: results.map((raw) => {
          const row = listRow(raw);
          const userId = row.text("user_id");
          return {
            userId,
            name: row.text("name"),
            email: row.text("email"),
            state: row.enumValue("state", User_State),
            roleBindings: userId ? (bindings.get(userId) ?? []).map(toBinding) : [],
            tags: row.tags("tags"),
            domainId: row.text("domain_id"),
            createdAt: row.time("created_at"),
            updatedAt: row.time("updated_at"),
            lastLoginAt: row.time("last_login_at"),
          };
        }),
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
      return toMessage(await rules.setPassword(Access.of(ctx), req));
    },

    async addRoleBinding(req, ctx) {
      return toMessage(await rules.addRoleBinding(Access.of(ctx), { userId: req.userId, role: roleName(req.role), workspaceId: req.workspaceId }));
    },

    async removeRoleBinding(req, ctx) {
      return toMessage(await rules.removeRoleBinding(Access.of(ctx), { userId: req.userId, role: roleName(req.role), workspaceId: req.workspaceId }));
    },
  };
}
