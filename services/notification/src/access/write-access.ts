import { invalidParameter, missingParameter, permissionDenied } from "@cloudforet/errors";
import { canAccessWorkspace, requireWorkspaceAccess, type Caller } from "@cloudforet/runtime";

const workspacePattern = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/*
 * Who may write channels and notifications (the platform's role rules: admins write anywhere, owners
 * in their workspaces, members only read). Reads go through the shared tenant scope, where rows of
 * the whole domain (workspace_id "") are readable by every member.
 */

/**
 * The workspace a new channel or notification belongs to: the one asked for, else the caller's
 * own. A domain admin's default is the whole domain (""); an owner of several must say which.
 */
export function workspaceForWrite(caller: Caller, requested: string): string {
  if (requested) {
    if (!workspacePattern.test(requested)) throw invalidParameter("workspace_id is malformed", { parameter: "workspace_id", value: requested.slice(0, 128) });
    requireWorkspaceAccess(caller, requested, "write");
    return requested;
  }
  if (caller.domainAdmin) return "";
  const writable = [...new Set(caller.roles.flatMap((r) => (r.workspace_id && canAccessWorkspace(caller, r.workspace_id, "write") ? [r.workspace_id] : [])))];
  if (writable.length === 1) return writable[0];
  if (writable.length === 0) throw permissionDenied("Write access to a workspace is needed (WORKSPACE_OWNER or DOMAIN_ADMIN)", { user_id: caller.userId });
  throw missingParameter("workspace_id");
}

/** Whether the caller may change a row of this workspace (domain-wide rows: admins only). */
export function canWrite(caller: Caller, workspaceId: string): boolean {
  return workspaceId === "" ? caller.domainAdmin : canAccessWorkspace(caller, workspaceId, "write");
}
