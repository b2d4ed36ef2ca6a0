import { sendJson, type HttpHandler } from "@cloudforet/runtime";
import type { SigningKeyStore } from "./signing-keys";

export const JWKS_PATH = "/.well-known/jwks.json";

/** `GET /.well-known/jwks.json`: the same keys as AuthService.GetJwks, for JWT libraries that fetch a URL. */
export function jwksEndpoint(keys: SigningKeyStore): HttpHandler {
  return async (req, res) => {
    if ((req.url ?? "").split("?")[0] !== JWKS_PATH) return false;
    if (req.method !== "GET" && req.method !== "HEAD") {
      sendJson(res, 405, { error: "method not allowed" }, { allow: "GET, HEAD" });
      return true;
    }
    sendJson(res, 200, { keys: await keys.jwks() }, { "cache-control": "public, max-age=300" });
    return true;
  };
}
