export { ErrorCode, ErrorCategory, taxonomy, errorCodeForGrpc, type TaxonomyEntry } from "./taxonomy";
export { errorToJSON, type ErrorJSON, type ErrorJSONSource } from "./error-json";
export {
  PlatformError,
  type PlatformErrorOptions,
  invalidParameter,
  missingParameter,
  authenticateFailure,
  permissionDenied,
  notFound,
  conflict,
  illegalTransition,
  payloadTooLarge,
  rateLimited,
  serviceUnavailable,
  timeout,
  echoedValue,
  printable,
} from "./platform-error";
export { toConnectError, decodeError, type DecodedError } from "./connect-error";
