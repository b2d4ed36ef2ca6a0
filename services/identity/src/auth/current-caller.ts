import type { Interceptor } from "@connectrpc/connect";
import { authenticateFailure } from "@cloudforet/errors";
import { bearerToken, callerKey, publicProcedures, type Caller } from "@cloudforet/runtime";
import type { ApiKeyRepository } from "../api-keys/repository";
import type { DomainRepository } from "../domains/repository";
import type { UserRepository } from "../users/repository";
import { roleClaims, type TokenIssuer } from "./token-issuer";

const INVALID = "Invalid or expired token";

/**
 * Runs after the host's token check. Identity is the authority on users and keys, so instead of
 * waiting for revocation events it re-reads them: a deleted, disabled or re-passworded user, a
 * disabled domain or a revoked API key is refused at once, and the caller carries the role
 * bindings as they are now, not as they were when the token was issued.
 */
export function currentCallerInterceptor(issuer: TokenIssuer, domains: DomainRepository, users: UserRepository, apiKeys: ApiKeyRepository): Interceptor {
  return (next) => async (req) => {
    if (publicProcedures.has(`${req.service.typeName}/${req.method.name}`)) return next(req);
    const token = bearerToken(req.header.get("authorization"));
    if (!token) throw authenticateFailure("Authentication required: send Authorization: Bearer <token>");
    const claims = await issuer.verify(token, "access").catch((err: { code?: string }) => {
      throw authenticateFailure(INVALID, { reason: err.code === "ERR_JWT_EXPIRED" ? "expired" : "invalid token" });
    });
    const [domain, found] = await Promise.all([domains.get(claims.did), users.get(claims.did, claims.sub)]);
    if (!domain || domain.state !== "ENABLED" || !found || found.user.state !== "ENABLED") {
      throw authenticateFailure(INVALID, { reason: "user or domain no longer active" });
    }
    const revokedAt = found.user.tokensRevokedAt;
    if (revokedAt && claims.iat <= Math.floor(revokedAt.getTime() / 1000)) throw authenticateFailure(INVALID, { reason: "user's tokens were revoked" });
    if (claims.akid) {
      const key = await apiKeys.get(claims.did, claims.akid);
      if (!key || key.state !== "ENABLED" || (key.expiresAt && key.expiresAt.getTime() <= Date.now())) {
        throw authenticateFailure(INVALID, { reason: "API key revoked" });
      }
    }
    const { roles, ws } = roleClaims(found.bindings);
    const caller: Caller = {
      domainId: claims.did,
      userId: claims.sub,
      workspaceIds: ws,
      domainAdmin: roles.some((r) => r.role === "DOMAIN_ADMIN"),
      roles,
      ...(claims.akid ? { apiKeyId: claims.akid } : {}),
    };
    req.contextValues.set(callerKey, caller);
    return next(req);
  };
}
