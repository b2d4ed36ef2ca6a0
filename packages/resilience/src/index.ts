export {
  ErrorCategory,
  categorize,
  categoryForGrpcCode,
  categoryForErrorCode,
  shouldRetry,
  shouldAlert,
  isNetworkError,
} from "./categorize";
export { clientMetricsInterceptor } from "./client-metrics";
export { ClientError, type ClientErrorInit, type ClientErrorJSON } from "./client-error";
export { retryInterceptor, IDEMPOTENCY_KEY_HEADER, type RetryOptions } from "./retry";
export {
  createCircuitBreaker,
  circuitBreakerInterceptor,
  CIRCUIT_BREAKER_STATE_METRIC,
  reportCircuitStates,
  type CircuitStateSource,
  type CircuitBreakerOptions,
  type CircuitState,
  type UpstreamCircuitBreaker,
} from "./circuit-breaker";
export {
  createServiceClient,
  FORWARDED_HEADERS,
  type HeaderSource,
  type ServiceClientOptions,
} from "./service-client";
export { ReplaceableSession, isBrokenSession, isRefusedStream } from "./replaceable-session";
export { setClientTracing, clientTracing, type ClientTracingFactory } from "./client-tracing";
export { ServiceTokens, type ServiceTokenMinter } from "./service-tokens";
