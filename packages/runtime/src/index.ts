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
  tokenIssuedAt,
  RevocationList,
  revocationSubjects,
  TOKEN_ISSUER,
  TOKEN_AUDIENCE,
  callerFromClaims,
  type TokenVerifier,
  type AccessTokenClaims,
} from "./auth";
export { canAccessWorkspace, requireWorkspaceAccess, requireDomainAccess, readableWorkspaces, type Access } from "./access";
export { inputGuardInterceptor, findInputProblem, textProblem, INPUT_LIMITS, PER_ITEM_BATCH_RPCS, type InputProblem } from "./input-guard";
export { Keyring, JsonSealer, UnknownKeyError, UnreadableSealError, parseKeyList, loadOrCreateKeyFile, type AesKey, type Sealed } from "./keyring";
export { TrustedProxies, clientAddress, peerAddressKey, peerAddressOf, peerContextValues } from "./peer-address";
export { readTransportLimits, defaultTransportLimits, type TransportLimits } from "./config";
export { ANONYMOUS_MAX_REQUEST_BYTES } from "./server";
export { requestTargetProblem, taxonomyErrorBody, sendTaxonomyError, rawHttpResponse } from "./http-endpoints";
export { answerClientError, clientErrorAnswer } from "./plaintext-server";
export { authenticationGate, type RequestAuthenticator } from "./auth-gate";
export { installLastResortHandlers } from "./last-resort";
export { Supervisor, type SupervisedChild, type SupervisedProcess, type SupervisorOptions } from "./supervisor";
export { installTracing, serverTracing, serverTracingInterceptor, clientTracingInterceptor, eventTracingWith, activeTracer, tracingEnabled, currentTraceparent, withTraceparent, type TracingHandle } from "./tracing";
export { RequestLoggingSwitches, requestLogInterceptor, redactBody, callerSwitch, REDACTED, TRUNCATED_BODY_BYTES, type RequestLogMode, type LoggingCallerType, type RequestLogRecordData } from "./request-logging";
