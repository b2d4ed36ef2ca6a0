import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { RoleBinding_Role, User_State } from "@cloudforet/proto/cloudforet/identity/v1/user_pb";
import type { RoleBindingRow } from "../db/schema";
import { listRow, optionalTime } from "../messages/list-rows";
import { listedBindings, type UserWithBindings } from "./repository";

export const toBinding = (row: RoleBindingRow) => ({ role: RoleBinding_Role[row.role], workspaceId: row.workspaceId, createdAt: timestampFromDate(row.createdAt) });

/** Every user response has the whole user; never the password hash. */
export function toMessage({ user, bindings }: UserWithBindings) {
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

/** A List result: fields trimmed by `only` stay unset; role bindings come from `bindings`. */
/** A List row, with the role bindings the List read beside it (none when `only` trimmed it). */
export function fromListRow(raw: Record<string, unknown>) {
  const row = listRow(raw);
  const userId = row.text("user_id");
  return {
    userId,
    name: row.text("name"),
    email: row.text("email"),
    state: row.enumValue("state", User_State),
    roleBindings: listedBindings(raw).map(toBinding),
    tags: row.tags("tags"),
    domainId: row.text("domain_id"),
    createdAt: row.time("created_at"),
    updatedAt: row.time("updated_at"),
    lastLoginAt: row.time("last_login_at"),
  };
}
