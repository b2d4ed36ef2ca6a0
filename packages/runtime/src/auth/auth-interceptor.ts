import type { Interceptor } from "@connectrpc/connect";
import { authenticateFailure } from "@cloudforet/errors";
import { callerKey } from "../caller";
import { bearerToken, type TokenVerifier } from "./token-verifier";

/** Procedures anyone may call: health, reflection, and the calls that obtain a token. */
export const publicProcedures = new Set([
  "grpc.health.v1.Health/Check",
  "grpc.health.v1.Health/Watch",
  "grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
  "grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
  "cloudforet.identity.v1.AuthService/Login",
  "cloudforet.identity.v1.AuthService/Refresh",
  "cloudforet.identity.v1.AuthService/GetJwks",
  // A service identity authenticates with its credential in the body (services/identity service-identities).
  "cloudforet.identity.v1.ServiceIdentityService/IssueToken",
]);

/**
 * Every other procedure needs `Authorization: Bearer <token>`; the verified caller is put in the
 * handler context (`callerOf(ctx)`). Missing, malformed, expired, forged or revoked → UNAUTHENTICATED.
 */
export function authInterceptor(verify: TokenVerifier, open = publicProcedures): Interceptor {
  return (next) => async (req) => {
    if (open.has(`${req.service.typeName}/${req.method.name}`)) return next(req);
    // The request gate (authentication before the body) already verified this call's token.
    if (req.contextValues.get(callerKey)) return next(req);
    const token = bearerToken(req.header.get("authorization"));
    if (!token) throw authenticateFailure("Authentication required: send Authorization: Bearer <token>");
    req.contextValues.set(callerKey, await verify(token));
    return next(req);
  };
}
