import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { SignJWT, jwtVerify, type JWTPayload } from "jose";
import { TOKEN_AUDIENCE, TOKEN_ISSUER, type AccessTokenClaims, type RoleBinding } from "@cloudforet/runtime";
import type { RoleBindingRow } from "../db/schema";
import { SIGNING_ALG, type SigningKeyStore } from "./signing-keys";

export interface TokenSubject {
  domainId: string;
  userId: string;
  bindings: RoleBindingRow[];
  /** Set when the login used an API key (`akid`). */
  apiKeyId?: string;
  /** The user's last revocation: new tokens must be issued strictly after its second. */
  tokensRevokedAt?: Date | null;
}

export interface IssuedTokens {
  token: string;
  expiresAt: Date;
  refreshToken: string;
  refreshJti: string;
  refreshExpiresAt: Date;
}

export type TokenType = "access" | "refresh";

/** The claims' role list: DOMAIN_ADMIN alone, workspace roles with their workspace. */
export function roleClaims(bindings: RoleBindingRow[]): { roles: RoleBinding[]; ws: string[] } {
  const roles: RoleBinding[] = bindings.map((b) => (b.role === "DOMAIN_ADMIN" ? { role: b.role } : { role: b.role, workspace_id: b.workspaceId }));
  const ws = [...new Set(bindings.filter((b) => b.workspaceId).map((b) => b.workspaceId))].sort();
  return { roles, ws };
}

/**
 * Signs the token contract every service verifies (runtime `callerFromClaims`):
 * `{iss, aud, sub, did, ws, roles, akid?, typ, iat, exp, jti}`, EdDSA with `kid` in the header.
 */
export class TokenIssuer {
  constructor(
    private readonly keys: SigningKeyStore,
    private readonly ttl: { accessSeconds: number; refreshSeconds: number; serviceSeconds?: number },
  ) {}

  /**
   * A service identity's access token (service-identities/): no refresh token (the holder mints a
   * new one with its credential), lifetime IDENTITY_SERVICE_TOKEN_TTL_SECONDS.
   */
  async issueServiceToken(subject: { domainId: string; subject: string; bindings: RoleBinding[]; workspaceIds: string[] }): Promise<{ token: string; expiresAt: Date }> {
    const ttlSeconds = this.ttl.serviceSeconds ?? 900;
    const now = Math.floor(Date.now() / 1000);
    const claims = { did: subject.domainId, sub: subject.subject, ws: subject.workspaceIds, roles: subject.bindings, typ: "access" };
    const token = await this.sign(claims, now, ttlSeconds, randomUUID());
    return { token, expiresAt: new Date((now + ttlSeconds) * 1000) };
  }

  async issue(subject: TokenSubject): Promise<IssuedTokens> {
    await this.waitPastRevocation(subject.tokensRevokedAt);
    const { roles, ws } = roleClaims(subject.bindings);
    const claims: Omit<AccessTokenClaims, "iat" | "typ"> = {
      did: subject.domainId,
      sub: subject.userId,
      ws,
      roles,
      ...(subject.apiKeyId ? { akid: subject.apiKeyId } : {}),
    };
    const now = Math.floor(Date.now() / 1000);
    const refreshJti = randomUUID();
    const token = await this.sign({ ...claims, typ: "access" }, now, this.ttl.accessSeconds, randomUUID());
    const refreshToken = await this.sign({ ...claims, typ: "refresh" }, now, this.ttl.refreshSeconds, refreshJti);
    return {
      token,
      expiresAt: new Date((now + this.ttl.accessSeconds) * 1000),
      refreshToken,
      refreshJti,
      refreshExpiresAt: new Date((now + this.ttl.refreshSeconds) * 1000),
    };
  }

  /** Verifies signature, issuer, audience, expiry and type; throws jose's errors otherwise. */
  async verify(token: string, type: TokenType): Promise<AccessTokenClaims> {
    const { payload } = await jwtVerify(token, this.keys.getKey, { issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE, algorithms: [SIGNING_ALG] });
    if (payload.typ !== type) throw Object.assign(new Error(`not a ${type} token`), { code: "ERR_JWT_CLAIM_VALIDATION_FAILED" });
    return payload as AccessTokenClaims;
  }

  private async sign(claims: JWTPayload, now: number, ttlSeconds: number, jti: string): Promise<string> {
    const { kid, privateKey } = await this.keys.signer();
    return new SignJWT(claims)
      .setProtectedHeader({ alg: SIGNING_ALG, kid, typ: "JWT" })
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setIssuedAt(now)
      .setExpirationTime(now + ttlSeconds)
      .setJti(jti)
      .sign(privateKey);
  }

  /**
   * Verifiers refuse a revoked user's tokens issued at or before the revocation's second (`iat` has
   * one-second resolution), so a token issued in that same second would be refused too: wait it out.
   */
  private async waitPastRevocation(revokedAt: Date | null | undefined): Promise<void> {
    if (revokedAt) await waitUntil((Math.floor(revokedAt.getTime() / 1000) + 1) * 1000);
  }
}

/**
 * Resolves once `Date.now()` has reached `at`. A timer may fire a little before the clock reads its
 * due time (the event loop measures delays from the time it cached at the start of its turn, which
 * a busy turn leaves behind), so the clock is read again after every sleep.
 */
export async function waitUntil(at: number, wait: (ms: number) => Promise<unknown> = sleep): Promise<void> {
  for (let left = at - Date.now(); left > 0; left = at - Date.now()) await wait(left);
}
