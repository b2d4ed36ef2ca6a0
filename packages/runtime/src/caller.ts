import { createContextKey, type HandlerContext } from "@connectrpc/connect";
import { authenticateFailure } from "@cloudforet/errors";

export type Role = "DOMAIN_ADMIN" | "WORKSPACE_OWNER" | "WORKSPACE_MEMBER";

export interface RoleBinding {
  role: Role;
  /** Absent for DOMAIN_ADMIN, which covers the whole domain. */
  workspace_id?: string;
}

/** Who is calling: every read and write is scoped to the caller's domain (SPEC §4). */
export interface Caller {
  domainId: string;
  userId: string;
  /** Workspaces the caller has any role in; a domain admin may see all of the domain's. */
  workspaceIds: string[];
  domainAdmin: boolean;
  roles: RoleBinding[];
  /** Set when the token was issued to an API key login (plugins, service accounts). */
  apiKeyId?: string;
}

export const callerKey = createContextKey<Caller | undefined>(undefined, { description: "authenticated caller" });

/** The authenticated caller; UNAUTHENTICATED when the call carried no identity. */
export function callerOf(ctx: HandlerContext): Caller {
  const caller = ctx.values.get(callerKey);
  if (!caller) throw authenticateFailure("Authentication required");
  return caller;
}

/**
 * The caller with these role bindings in place of the token's: the workspaces and the admin flag
 * follow from the bindings, exactly as identity derives them when it signs a token.
 */
export function callerWithRoles(caller: Caller, roles: RoleBinding[]): Caller {
  return {
    ...caller,
    workspaceIds: [...new Set(roles.flatMap((r) => (r.workspace_id ? [r.workspace_id] : [])))].sort(),
    domainAdmin: roles.some((r) => r.role === "DOMAIN_ADMIN"),
    roles,
  };
}
