import { and, eq, inArray, type SQL } from "drizzle-orm";
import { readableWorkspaces, type Caller } from "@cloudforet/runtime";
import { cloudServices } from "../db/schema";

/**
 * What a caller may read: its domain, and within it every workspace (domain admin) or only the
 * workspaces it has a role in. Writing needs more (see `canAccessWorkspace(caller, ws, "write")`).
 */
export interface Scope {
  domainId: string;
  /** Undefined: every workspace of the domain. */
  workspaceIds?: readonly string[];
}

export function scopeOf(caller: Caller): Scope {
  const readable = readableWorkspaces(caller);
  return readable === "all" ? { domainId: caller.domainId } : { domainId: caller.domainId, workspaceIds: readable };
}

/** The WHERE clause that keeps a query inside the scope. */
export function scopeCondition(scope: Scope): SQL {
  const domain = eq(cloudServices.domainId, scope.domainId);
  if (scope.workspaceIds === undefined) return domain;
  // An empty list must match nothing; inArray with [] is refused by drizzle, so use an impossible id.
  return and(domain, inArray(cloudServices.workspaceId, scope.workspaceIds.length > 0 ? [...scope.workspaceIds] : ["\u0000"]))!;
}
