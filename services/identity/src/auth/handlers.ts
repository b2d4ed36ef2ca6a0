import type { JsonObject } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { AuthService } from "@cloudforet/proto/cloudforet/identity/v1/auth_pb";
import { peerAddressOf } from "@cloudforet/runtime";
import type { AuthRules } from "./auth";
import type { SigningKeyStore } from "./signing-keys";
import { toMessage } from "./to-message";

export function authHandlers(rules: AuthRules, keys: SigningKeyStore): ServiceImpl<typeof AuthService> {
  return {
    async login(req, ctx) {
      return toMessage(await rules.login(req, peerAddressOf(ctx)));
    },
    async refresh(req) {
      return toMessage(await rules.refresh(req.refreshToken));
    },
    async getJwks() {
      return { keys: (await keys.jwks()) as JsonObject[] };
    },
  };
}
