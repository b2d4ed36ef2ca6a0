import { authenticateFailure } from "@cloudforet/errors";
import type { ApiKeyRepository } from "../api-keys/repository";
import { verifyPassword } from "../crypto/password-hash";
import type { ApiKeyRow, DomainRow } from "../db/schema";
import type { DomainRepository } from "../domains/repository";
import { required } from "../fields/field-rules";
import type { UserRepository, UserWithBindings } from "../users/repository";
import type { LoginThrottle } from "./login-throttle";
import type { AuthRepository } from "./repository";
import type { IssuedTokens, TokenIssuer } from "./token-issuer";

export interface LoginResult extends IssuedTokens {
  domainId: string;
}

/** One message for every credential failure, so answers do not tell which user ids exist. */
const BAD_CREDENTIALS = "Invalid credentials";
const BAD_REFRESH = "Invalid or expired refresh token";
const PRUNE_EVERY_MS = 10 * 60_000;

const usable = (key: ApiKeyRow | undefined, domainId: string, userId: string, now: Date): key is ApiKeyRow =>
  !!key && key.domainId === domainId && key.userId === userId && key.state === "ENABLED" && (!key.expiresAt || key.expiresAt.getTime() > now.getTime());

/**
 * Login and refresh. A password or one of the user's API keys (seed 000: plugins log in with their
 * key as the password) buys an access token and a single-use refresh token.
 */
export class AuthRules {
  private lastPrune = 0;

  constructor(
    private readonly auth: AuthRepository,
    private readonly domains: DomainRepository,
    private readonly users: UserRepository,
    private readonly apiKeys: ApiKeyRepository,
    private readonly issuer: TokenIssuer,
    private readonly throttle: LoginThrottle,
  ) {}

  /** `address` is the calling connection's peer (never a header): the throttle's per-client key. */
  async login(input: { domainId: string; userId: string; password: string }, address: string, now = new Date()): Promise<LoginResult> {
    const domainId = required(input.domainId, "domain_id");
    const userId = required(input.userId, "user_id");
    const password = required(input.password, "password");
    // Throttled on the ids as given, before anything is looked up: an unknown domain or user counts,
    // waits and answers exactly like a wrong password, so neither can be told apart.
    const attempt = await this.throttle.attempt({ domainId, userId }, address, now);

    const [domain, found, key] = await Promise.all([this.domains.get(domainId), this.users.get(domainId, userId), this.apiKeys.findByKey(password)]);
    const viaKey = usable(key, domainId, userId, now);
    // Without a stored hash (unknown domain or user) verifyPassword hashes against a decoy: same time.
    const viaPassword = !viaKey && (await verifyPassword(password, found?.user.passwordHash));
    if (!domain || !found || !(viaKey || viaPassword) || !enabled(domain, found)) {
      await attempt.failed();
      // No ids in the metadata either: unknown domain, unknown user, disabled user and wrong password
      // must be one answer, byte for byte.
      throw authenticateFailure(BAD_CREDENTIALS);
    }

    await attempt.succeeded();
    if (viaKey) await this.apiKeys.recordUse(key.apiKeyId, now);
    else await this.users.recordLogin(domainId, userId, now);
    const result = await this.issue(found, viaKey ? key.apiKeyId : undefined);
    await this.pruneNowAndThen(now);
    return result;
  }

  /** Rotates a refresh token; re-reads the user (and key), so a deleted or disabled one gets nothing. */
  async refresh(refreshToken: string, now = new Date()): Promise<LoginResult> {
    required(refreshToken, "refresh_token");
    const claims = await this.issuer.verify(refreshToken, "refresh").catch(() => {
      throw authenticateFailure(BAD_REFRESH);
    });
    if (!claims.jti || (await this.auth.consumeRefreshToken(claims.jti, now)) !== "ok") throw authenticateFailure(BAD_REFRESH);
    const [domain, found] = await Promise.all([this.domains.get(claims.did), this.users.get(claims.did, claims.sub)]);
    if (!domain || !found || !enabled(domain, found)) throw authenticateFailure(BAD_REFRESH);
    if (found.user.tokensRevokedAt && claims.iat <= Math.floor(found.user.tokensRevokedAt.getTime() / 1000)) throw authenticateFailure(BAD_REFRESH);
    if (claims.akid) {
      const key = await this.apiKeys.get(claims.did, claims.akid);
      if (!usable(key, claims.did, claims.sub, now)) throw authenticateFailure(BAD_REFRESH);
    }
    return this.issue(found, claims.akid);
  }

  private async issue(found: UserWithBindings, apiKeyId: string | undefined): Promise<LoginResult> {
    const { user, bindings } = found;
    const tokens = await this.issuer.issue({ domainId: user.domainId, userId: user.userId, bindings, apiKeyId, tokensRevokedAt: user.tokensRevokedAt });
    await this.auth.storeRefreshToken({ jti: tokens.refreshJti, domainId: user.domainId, userId: user.userId, apiKeyId, expiresAt: tokens.refreshExpiresAt });
    return { ...tokens, domainId: user.domainId };
  }

  private async pruneNowAndThen(now: Date): Promise<void> {
    if (now.getTime() - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = now.getTime();
    await this.auth.prune(now, this.throttle.forgetMs);
  }
}

function enabled(domain: DomainRow, found: UserWithBindings): boolean {
  return domain.state === "ENABLED" && found.user.state === "ENABLED";
}
