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
    claims.roles.every((r) => r && roles.has(r.role));
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
