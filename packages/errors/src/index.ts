export { ErrorCode, taxonomy, errorCodeForGrpc, type TaxonomyEntry } from "./taxonomy";
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
} from "./platform-error";
export { toConnectError, decodeError, type DecodedError } from "./connect-error";
