// The runtime-neutral part of this package (no node: modules, no connect-node, pino or prom-client):
// what a browser client needs to read errors the way every other client does.
export {
  ErrorCategory,
  categorize,
  categoryForGrpcCode,
  categoryForErrorCode,
  shouldRetry,
  shouldAlert,
  isNetworkError,
} from "./categorize";
export { ClientError, type ClientErrorInit, type ClientErrorJSON } from "./client-error";
export { IDEMPOTENCY_KEY_HEADER } from "./idempotency-key";
