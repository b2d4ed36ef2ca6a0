import type { JsonObject } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { AuthService } from "@cloudforet/proto/cloudforet/identity/v1/auth_pb";
import type { LoginResult } from "./rules";
import type { AuthRules } from "./rules";
import type { SigningKeyStore } from "./signing-keys";

/** Seed 000's login response: token, expires_at, domain_id (plus the refresh token). */
function toMessage(result: LoginResult) {
  return {
    token: result.token,
    expiresAt: timestampFromDate(result.expiresAt),
    domainId: result.domainId,
    refreshToken: result.refreshToken,
  };
}

export function authHandlers(rules: AuthRules, keys: SigningKeyStore): ServiceImpl<typeof AuthService> {
  return {
    async login(req) {
      return toMessage(await rules.login(req));
    },
    async refresh(req) {
      return toMessage(await rules.refresh(req.refreshToken));
    },
    async getJwks() {
      return { keys: (await keys.jwks()) as JsonObject[] };
    },
  };
}
