import type { JWTPayload } from "jose";
import type { Caller, Role, RoleBinding } from "../caller";

/** The token contract between identity (which signs) and every service (which verifies). */
export const TOKEN_ISSUER = "cloudforet-identity";
export const TOKEN_AUDIENCE = "cloudforet";

export interface AccessTokenClaims extends JWTPayload {
  sub: string;
  /** domain id */
  did: string;
  /** workspaces the user has any role in */
  ws: string[];
  roles: RoleBinding[];
  /** api key id, when the token came from an API key login */
  akid?: string;
  typ: "access" | "refresh";
  iat: number;
}

const roles = new Set<Role>(["DOMAIN_ADMIN", "WORKSPACE_OWNER", "WORKSPACE_MEMBER"]);

/** A role binding as tokens and identity's events carry it: a known role, maybe a workspace id. */
export function isRoleBinding(value: unknown): value is RoleBinding {
  const binding = value as Partial<RoleBinding> | null;
  return !!binding && roles.has(binding.role as Role) && (binding.workspace_id === undefined || typeof binding.workspace_id === "string");
}

/** Checks the claims' shape (the signature was checked already) and turns them into a Caller. */
export function callerFromClaims(payload: JWTPayload): Caller {
  const claims = payload as Partial<AccessTokenClaims>;
  const valid =
    typeof claims.sub === "string" &&
    typeof claims.did === "string" &&
    typeof claims.iat === "number" &&
    claims.typ === "access" &&
    Array.isArray(claims.ws) &&
    claims.ws.every((w) => typeof w === "string") &&
    Array.isArray(claims.roles) &&
    claims.roles.every(isRoleBinding);
  if (!valid) throw new Error("token claims are not an access token's");
  return {
    domainId: claims.did!,
    userId: claims.sub!,
    workspaceIds: claims.ws!,
    domainAdmin: claims.roles!.some((r) => r.role === "DOMAIN_ADMIN"),
    roles: claims.roles!,
    ...(claims.akid ? { apiKeyId: claims.akid } : {}),
  };
}
