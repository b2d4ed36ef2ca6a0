import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from "jose";
import { authenticateFailure } from "@cloudforet/errors";
import { callerWithRoles, type Caller } from "../caller";
import { AccessChangeList } from "./access-changes";
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

/**
 * Verifies an access token locally (signature, issuer, audience, expiry, claims, revocations) and
 * gives the caller the user's current role bindings when identity changed them since the token.
 */
export function createTokenVerifier(keys: JWTVerifyGetKey, changes = new AccessChangeList(), options: VerifiedTokenCacheOptions = {}): TokenVerifier {
  const verifiedTokens = new VerifiedTokens(options);
  return async (token) => {
    let claims: AccessTokenClaims;
    let caller: Caller;
    const known = verifiedTokens.get(token);
    if (known) {
      ({ claims, caller } = known);
    } else {
      try {
        const verified = await jwtVerify(token, keys, { issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE, algorithms: ["EdDSA", "ES256"] });
        claims = verified.payload as AccessTokenClaims;
        caller = callerFromClaims(claims);
      } catch (err) {
        throw authenticateFailure("Invalid or expired token", { reason: describeFailure(err) });
      }
      verifiedTokens.set(token, claims, caller);
    }
    // UNAVAILABLE (retry) rather than a verdict while the revocations are not all known yet.
    changes.assertReplayed();
    const revoked = changes.reasonToReject(claims);
    if (revoked) throw authenticateFailure("Invalid or expired token", { reason: revoked });
    const roles = changes.currentRoles(claims);
    // A copy per call: the remembered caller is shared by every call with this token.
    const verified = roles ? callerWithRoles(caller, roles) : { ...caller };
    issuedAt.set(verified, claims.iat);
    return verified;
  };
}

/** When each verified caller's token was issued, kept beside the Caller so its shape stays the contract's. */
const issuedAt = new WeakMap<Caller, number>();

/**
 * The `iat` (seconds) of the token this caller was verified from, when the host's verifier made it:
 * lets a service check its own revocations without verifying the token a second time.
 */
export function tokenIssuedAt(caller: Caller): number | undefined {
  return issuedAt.get(caller);
}

export interface VerifiedTokenCacheOptions {
  /** Tokens whose signature check is remembered at most (default 10,000); the oldest go first. */
  maxTokens?: number;
  /** How long a signature check is remembered (default 60 s, never past the token's expiry). */
  ttlMs?: number;
}

/**
 * Tokens whose signature, issuer, audience and claims were checked, so a client calling with the
 * same token again costs no signature verification. Only that check is remembered: expiry is
 * checked again on every use, and revocations and role changes are applied per call after it.
 * The TTL bounds how long a token signed by a key identity has since retired keeps working here.
 */
class VerifiedTokens {
  private readonly entries = new Map<string, { claims: AccessTokenClaims; caller: Caller; untilMs: number }>();
  private readonly maxTokens: number;
  private readonly ttlMs: number;

  constructor(options: VerifiedTokenCacheOptions) {
    this.maxTokens = options.maxTokens ?? 10_000;
    this.ttlMs = options.ttlMs ?? 60_000;
  }

  get(token: string): { claims: AccessTokenClaims; caller: Caller } | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    // jose refuses a token at its `exp` second: so does the cache, handing it back to jose.
    if (Date.now() >= entry.untilMs) {
      this.entries.delete(token);
      return undefined;
    }
    return entry;
  }

  set(token: string, claims: AccessTokenClaims, caller: Caller): void {
    const expiresMs = typeof claims.exp === "number" ? claims.exp * 1000 : Date.now();
    this.entries.set(token, { claims, caller, untilMs: Math.min(expiresMs, Date.now() + this.ttlMs) });
    if (this.entries.size > this.maxTokens) this.entries.delete(this.entries.keys().next().value!);
  }
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
