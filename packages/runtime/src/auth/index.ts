export { authInterceptor, publicProcedures } from "./auth-interceptor";
export { createTokenVerifier, remoteKeys, bearerToken, type TokenVerifier } from "./token-verifier";
export { RevocationList, revocationSubjects } from "./revocations";
export { TOKEN_ISSUER, TOKEN_AUDIENCE, callerFromClaims, type AccessTokenClaims } from "./token-claims";
