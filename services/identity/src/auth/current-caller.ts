import type { Interceptor } from "@connectrpc/connect";
import { authenticateFailure } from "@cloudforet/errors";
import { bearerToken, callerKey, publicProcedures, tokenIssuedAt, type Caller } from "@cloudforet/runtime";
import { serviceIdentityIdOf, type ServiceIdentityRules } from "../service-identities/service-identities";
import type { CallerFacts } from "./caller-facts";
import { roleClaims, type TokenIssuer } from "./token-issuer";

const INVALID = "Invalid or expired token";

/**
 * Runs after the host's token check. Identity is the authority on users and keys, so instead of
 * waiting for revocation events it re-reads them: a deleted, disabled or re-passworded user, a
 * disabled domain or a revoked API key is refused at once, and the caller carries the role
 * bindings as they are now, not as they were when the token was issued.
 *
 * The rows come from `facts`, an in-memory copy that identity's own writes and events keep current,
 * so the check costs no database round trip; the token is not verified a second time when the
 * host's verifier already did (it records when the token was issued).
 */
export function currentCallerInterceptor(issuer: TokenIssuer, facts: CallerFacts, serviceIdentities: ServiceIdentityRules): Interceptor {
  return (next) => async (req) => {
    if (publicProcedures.has(`${req.service.typeName}/${req.method.name}`)) return next(req);
    const claims = await tokenFacts(req.contextValues.get(callerKey), req.header.get("authorization"), issuer);
    const serviceIdentityId = serviceIdentityIdOf(claims.sub);
    if (serviceIdentityId !== undefined) {
      // A service identity's token: it acts while its identity and domain are enabled, with exactly its one role.
      const [domain, identity] = await Promise.all([facts.domain(claims.did), serviceIdentities.active(claims.did, serviceIdentityId)]);
      if (!domain || domain.state !== "ENABLED" || !identity) throw authenticateFailure(INVALID, { reason: "service identity no longer active" });
      const binding = { role: "WORKSPACE_OWNER" as const, workspace_id: identity.workspaceId };
      req.contextValues.set(callerKey, { domainId: claims.did, userId: claims.sub, workspaceIds: [identity.workspaceId], domainAdmin: false, roles: [binding] } satisfies Caller);
      return next(req);
    }
    const [domain, found] = await Promise.all([facts.domain(claims.did), facts.user(claims.did, claims.sub)]);
    if (!domain || domain.state !== "ENABLED" || !found || found.state !== "ENABLED") {
      throw authenticateFailure(INVALID, { reason: "user or domain no longer active" });
    }
    const revokedAt = found.tokensRevokedAt;
    if (revokedAt && claims.iat <= Math.floor(revokedAt.getTime() / 1000)) throw authenticateFailure(INVALID, { reason: "user's tokens were revoked" });
    if (claims.akid) {
      const key = await facts.apiKey(claims.did, claims.akid);
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

interface TokenFacts {
  did: string;
  sub: string;
  iat: number;
  akid?: string;
}

/** The token's subject and issue time: from the caller the host verified, else by verifying the token here. */
async function tokenFacts(verified: Caller | undefined, authorization: string | null, issuer: TokenIssuer): Promise<TokenFacts> {
  const iat = verified && tokenIssuedAt(verified);
  if (verified && iat !== undefined) return { did: verified.domainId, sub: verified.userId, iat, akid: verified.apiKeyId };
  const token = bearerToken(authorization);
  if (!token) throw authenticateFailure("Authentication required: send Authorization: Bearer <token>");
  return issuer.verify(token, "access").catch((err: { code?: string }) => {
    throw authenticateFailure(INVALID, { reason: err.code === "ERR_JWT_EXPIRED" ? "expired" : "invalid token" });
  });
}
