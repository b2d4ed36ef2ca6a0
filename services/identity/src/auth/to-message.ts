import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { LoginResult } from "./auth";

/** Seed 000's login response: token, expires_at, domain_id (plus the refresh token). */
export function toMessage(result: LoginResult) {
  return {
    token: result.token,
    expiresAt: timestampFromDate(result.expiresAt),
    domainId: result.domainId,
    refreshToken: result.refreshToken,
  };
}
