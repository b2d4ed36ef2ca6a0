import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from "jose";
import { authenticateFailure } from "@cloudforet/errors";
import type { Caller } from "../caller";
import { RevocationList } from "./revocations";
import { TOKEN_AUDIENCE, TOKEN_ISSUER, callerFromClaims, type AccessTokenClaims } from "./token-claims";

export type TokenVerifier = (token: string) => Promise<Caller>;

/**
 * Identity's public keys, fetched from its JWKS endpoint and cached: a token signed by an unknown
 * key id refetches (at most every 30 s); known keys stay usable while identity is down.
 */
export function remoteKeys(identityUrl: string, options: { cooldownMs?: number } = {}): JWTVerifyGetKey {
  return createRemoteJWKSet(new URL("/.well-known/jwks.json", identityUrl), {
    cooldownDuration: options.cooldownMs ?? 30_000,
    cacheMaxAge: Number.POSITIVE_INFINITY,
    timeoutDuration: 5_000,
  });
}

/** Verifies an access token locally (signature, issuer, audience, expiry, claims, revocations). */
export function createTokenVerifier(keys: JWTVerifyGetKey, revocations = new RevocationList()): TokenVerifier {
  return async (token) => {
    let claims: AccessTokenClaims;
    let caller: Caller;
    try {
      const verified = await jwtVerify(token, keys, { issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE, algorithms: ["EdDSA", "ES256"] });
      claims = verified.payload as AccessTokenClaims;
      caller = callerFromClaims(claims);
    } catch (err) {
      throw authenticateFailure("Invalid or expired token", { reason: describeFailure(err) });
    }
    const revoked = revocations.reasonToReject(claims);
    if (revoked) throw authenticateFailure("Invalid or expired token", { reason: revoked });
    return caller;
  };
}

function describeFailure(err: unknown): string {
  const code = (err as { code?: string }).code;
  switch (code) {
    case "ERR_JWT_EXPIRED":
      return "expired";
    case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
    case "ERR_JWKS_NO_MATCHING_KEY":
      return "unknown signing key";
    case "ERR_JWKS_TIMEOUT":
    case "ERR_JOSE_GENERIC":
      return "signing keys unavailable";
    default:
      return code ? code.toLowerCase() : "malformed";
  }
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | null | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return match?.[1];
}
