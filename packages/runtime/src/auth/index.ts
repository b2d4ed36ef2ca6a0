export { authInterceptor, publicProcedures } from "./auth-interceptor";
export { createTokenVerifier, remoteKeys, bearerToken, tokenIssuedAt, type TokenVerifier } from "./token-verifier";
export { AccessChangeList, RevocationList, awaitReplay, accessChangeSubjects, revocationSubjects, rolesChangedSubject, ROLE_CHANGE_GRACE_SECONDS } from "./access-changes";
export { TOKEN_ISSUER, TOKEN_AUDIENCE, callerFromClaims, isRoleBinding, type AccessTokenClaims } from "./token-claims";
