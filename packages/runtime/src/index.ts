export { startServer, jsonOptions, type ServerOptions, type RunningServer } from "./server";
export { readServiceConfig, logLevelOrDefault, envPrefix, ConfigError, type ServiceConfig, type LogLevel } from "./config";
export { createLogger } from "./logger";
export { createRpcMetrics, type RpcMetrics } from "./metrics";
export { HealthRegistry, ServingStatus, LIVENESS_SERVICE } from "./health";
export { DescriptorIndex, registerReflection } from "@cloudforet/reflection";
export { requestIdKey, requestLoggerKey, requestIdOf, loggerOf } from "./request-context";
export { toTaxonomyError } from "./error-mapping";
export {
  checkReadiness,
  sendJson,
  type HttpHandler,
  type HttpRequest,
  type HttpResponse,
  type ReadinessChecks,
  type ReadinessReport,
} from "./http-endpoints";
export {
  startService,
  stopOnSignals,
  runServiceMain,
  type ServiceModule,
  type ServiceContext,
  type ServiceInstance,
  type RunningService,
} from "./service-host";
export { callerKey, callerOf, type Caller, type Role, type RoleBinding } from "./caller";
export {
  authInterceptor,
  publicProcedures,
  createTokenVerifier,
  remoteKeys,
  bearerToken,
  RevocationList,
  revocationSubjects,
  TOKEN_ISSUER,
  TOKEN_AUDIENCE,
  callerFromClaims,
  type TokenVerifier,
  type AccessTokenClaims,
} from "./auth";
export { canAccessWorkspace, requireWorkspaceAccess, requireDomainAccess, readableWorkspaces, type Access } from "./access";
export { nulGuardInterceptor, findNul } from "./nul-guard";
export { Keyring, JsonSealer, UnknownKeyError, UnreadableSealError, parseKeyList, loadOrCreateKeyFile, type AesKey, type Sealed } from "./keyring";
