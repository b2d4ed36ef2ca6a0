import { createHash } from "node:crypto";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { authenticateFailure, serviceUnavailable } from "@cloudforet/errors";
import { AuthService } from "@cloudforet/proto/cloudforet/identity/v1/auth_pb";
import { ClientError, createServiceClient } from "@cloudforet/resilience";
import type { Logger } from "pino";

/** Keys read "cfk_" + 43 url-safe characters (identity's ApiKeyService). */
const API_KEY = /^cfk_[A-Za-z0-9_-]{20,200}$/;
/** Tokens are reused until this long before they expire. */
const RENEW_BEFORE_MS = 60_000;
/** Most API keys whose tokens are kept. */
const MAX_CACHED = 1000;

export const isApiKey = (credential: string) => API_KEY.test(credential);

/**
 * Turns an API key into an access token the way every client does (seed 000: the key is the
 * password of AuthService.Login), so a Prometheus server can be configured with a key that does not
 * expire hourly. Tokens are cached per (domain, user, key) until a minute before they expire; the key
 * itself is kept only as a hash.
 */
export class ApiKeyLogin {
  private readonly auth;
  private readonly tokens = new Map<string, { token: string; renewAtMs: number }>();

  constructor(identityUrl: string, logger: Logger) {
    this.auth = createServiceClient(AuthService, identityUrl, { logger, upstream: "identity", timeoutMs: 10_000 });
  }

  async token(domainId: string, userId: string, apiKey: string): Promise<string> {
    if (!domainId || !userId) {
      throw authenticateFailure("An API key needs the X-Cloudforet-Domain-Id and X-Cloudforet-User-Id headers naming its domain and user");
    }
    const cacheKey = createHash("sha256").update(`${domainId}\n${userId}\n${apiKey}`).digest("hex");
    const cached = this.tokens.get(cacheKey);
    if (cached && cached.renewAtMs > Date.now()) return cached.token;
    try {
      const login = await this.auth.login({ domainId, userId, password: apiKey });
      if (this.tokens.size >= MAX_CACHED) this.tokens.delete(this.tokens.keys().next().value!);
      const expiresAt = login.expiresAt ? timestampMs(login.expiresAt) : Date.now() + RENEW_BEFORE_MS;
      this.tokens.set(cacheKey, { token: login.token, renewAtMs: expiresAt - RENEW_BEFORE_MS });
      return login.token;
    } catch (err) {
      this.tokens.delete(cacheKey);
      const failure = ClientError.from(err);
      if (failure.grpcCode === Code.Unauthenticated || failure.grpcCode === Code.NotFound || failure.grpcCode === Code.InvalidArgument) {
        throw authenticateFailure("The API key was refused");
      }
      throw serviceUnavailable(`identity could not check the API key: ${failure.message}`);
    }
  }
}
