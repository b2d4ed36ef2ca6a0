import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Client as ConnectClient } from "@connectrpc/connect";
import { AuthService } from "@cloudforet/proto/cloudforet/identity/v1/auth_pb";
import { IDEMPOTENCY_KEY_HEADER } from "@cloudforet/resilience/core";
import { configurationError, toAPIError } from "./errors";

interface Tokens {
  token: string;
  refreshToken: string;
  /** When the access token stops being accepted (ms since epoch). */
  expiresAt: number;
  /** When to refresh it: a little before it expires. */
  refreshAt: number;
}

export interface Credentials {
  apiKey?: string;
  password?: string;
  token?: string;
  domainId: string;
  userId?: string;
}

/**
 * The caller's access token: logs in lazily with the API key (or password), refreshes the token
 * before it expires, and logs in again when the refresh token is refused or a call got a 401.
 * Concurrent callers share one login or refresh.
 */
export class Session {
  private tokens?: Tokens;
  private pending?: Promise<Tokens>;
  /** Logins and refreshes so far (for diagnostics and tests). */
  readonly stats = { logins: 0, refreshes: 0 };

  private authClient?: ConnectClient<typeof AuthService>;

  constructor(
    /** Builds the AuthService client on first login (so a token-only client needs no identity URL). */
    private readonly connectAuth: () => ConnectClient<typeof AuthService>,
    private readonly credentials: Credentials,
  ) {
    if (!credentials.token && !credentials.apiKey && !credentials.password) {
      throw configurationError("No credentials: pass apiKey (CLOUDFORET_API_KEY), password or token", "apiKey");
    }
    if (!credentials.token && !credentials.userId) {
      throw configurationError("An API key or password needs the user it belongs to: pass userId (CLOUDFORET_USER_ID)", "userId");
    }
  }

  /** Whether a refused token can be replaced by logging in again. */
  get canLogin(): boolean {
    return !this.credentials.token;
  }

  get domainId(): string {
    return this.credentials.domainId;
  }

  /** The current token, after logging in or refreshing when needed. */
  async token(): Promise<string> {
    if (this.credentials.token) return this.credentials.token;
    const current = this.tokens;
    if (current && Date.now() < current.refreshAt) return current.token;
    return (await this.renew()).token;
  }

  /** Drops a token the server refused, so the next call logs in again. */
  invalidate(refused: string): void {
    if (this.tokens?.token === refused) this.tokens = undefined;
  }

  private renew(): Promise<Tokens> {
    this.pending ??= this.obtain().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async obtain(): Promise<Tokens> {
    const current = this.tokens;
    // The refresh token outlives the access token: refresh even after the access token lapsed.
    if (current) {
      try {
        const refreshed = await this.auth.refresh({ refreshToken: current.refreshToken }, this.callOptions());
        this.stats.refreshes++;
        return (this.tokens = tokensOf(refreshed));
      } catch {
        // A used, expired or revoked refresh token: log in afresh below.
      }
    }
    try {
      const { domainId, userId, apiKey, password } = this.credentials;
      const response = await this.auth.login({ domainId, userId, password: apiKey ?? password }, this.callOptions());
      this.stats.logins++;
      return (this.tokens = tokensOf(response));
    } catch (err) {
      throw toAPIError(err);
    }
  }

  private get auth(): ConnectClient<typeof AuthService> {
    return (this.authClient ??= this.connectAuth());
  }

  private callOptions() {
    // Login and Refresh have no side effect a repeat would double; the key lets resilience retry them.
    return { headers: { [IDEMPOTENCY_KEY_HEADER]: globalThis.crypto.randomUUID() } };
  }
}

function tokensOf(response: { token: string; refreshToken: string; expiresAt?: Parameters<typeof timestampDate>[0] }): Tokens {
  const now = Date.now();
  const expiresAt = response.expiresAt ? timestampDate(response.expiresAt).getTime() : now + 3_600_000;
  const lifetime = Math.max(0, expiresAt - now);
  // Refresh when a fifth of the lifetime (at most a minute) is left, so no call carries a token about to lapse.
  const margin = Math.min(60_000, lifetime / 5);
  return { token: response.token, refreshToken: response.refreshToken, expiresAt, refreshAt: expiresAt - margin };
}
