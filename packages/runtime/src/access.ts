import { permissionDenied } from "@cloudforet/errors";
import type { Caller } from "./caller";

/**
 * What each role may do (SPEC §4), in one place for every service:
 * - DOMAIN_ADMIN: everything in its domain;
 * - WORKSPACE_OWNER: read and write inside its workspaces;
 * - WORKSPACE_MEMBER: read inside its workspaces.
 * Domain-wide things (resource types, users, data sources) are readable by every member of the
 * domain and writable by its admins only.
 */
export type Access = "read" | "write";

export function canAccessWorkspace(caller: Caller, workspaceId: string, access: Access): boolean {
  if (caller.domainAdmin) return true;
  return caller.roles.some(
    (binding) =>
      binding.workspace_id === workspaceId &&
      (binding.role === "WORKSPACE_OWNER" || (access === "read" && binding.role === "WORKSPACE_MEMBER")),
  );
}

/** PERMISSION_DENIED unless the caller may `access` the workspace. */
export function requireWorkspaceAccess(caller: Caller, workspaceId: string, access: Access): void {
  if (!canAccessWorkspace(caller, workspaceId, access)) {
    throw permissionDenied(`${access === "write" ? "Write" : "Read"} access to workspace denied`, { workspace_id: workspaceId });
  }
}

/** PERMISSION_DENIED unless the caller may `access` the domain's domain-wide entities. */
export function requireDomainAccess(caller: Caller, access: Access): void {
  if (access === "write" && !caller.domainAdmin) throw permissionDenied("Only a domain admin may change this", { domain_id: caller.domainId });
}

/** The workspaces whose rows a List may show the caller: all of the domain's, or these. */
export function readableWorkspaces(caller: Caller): "all" | string[] {
  return caller.domainAdmin ? "all" : caller.workspaceIds;
}
