import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorCategory, ErrorCode, PlatformError, taxonomy } from "@cloudforet/errors";
import { ErrorInfoSchema } from "@cloudforet/proto/google/rpc/error_details_pb";

export { ErrorCategory } from "@cloudforet/errors";

const categories = new Set<string>(Object.values(ErrorCategory));

/** Node errno codes that mean the network, not the peer, failed. */
const networkErrorCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ERR_HTTP2_GOAWAY_SESSION",
  "ERR_HTTP2_SESSION_ERROR",
  "ERR_HTTP2_STREAM_CANCEL",
]);

/**
 * Sorts any failure into one of the categories: the ErrorInfo reason decides when the
 * peer sent one of ours, else a network error in the cause chain, else the gRPC code.
 */
export function categorize(err: unknown): ErrorCategory {
  const carried = (err as { category?: unknown } | null)?.category;
  if (typeof carried === "string" && categories.has(carried)) return carried as ErrorCategory;
  if (err instanceof PlatformError) return taxonomy[err.code].category;

  const connectErr = ConnectError.from(err);
  const reason = connectErr.findDetails(ErrorInfoSchema)[0]?.reason;
  if (reason !== undefined && Object.hasOwn(taxonomy, reason)) return taxonomy[reason as ErrorCode].category;
  if (isNetworkError(err)) return ErrorCategory.TRANSIENT;
  // Connect's own refusal of a message over readMaxBytes (either side) is about the message, not
  // the peer's load: a bad request, never retried, never counted against the upstream's breaker.
  if (connectErr.code === Code.ResourceExhausted && /larger than configured readMaxBytes/.test(connectErr.rawMessage)) return ErrorCategory.VALIDATION;
  return categoryForGrpcCode(connectErr.code);
}

/** The category of a bare gRPC status. */
export function categoryForGrpcCode(code: Code): ErrorCategory {
  switch (code) {
    case Code.Unauthenticated:
      return ErrorCategory.AUTH;
    case Code.PermissionDenied:
      return ErrorCategory.PERMISSION;
    case Code.InvalidArgument:
    case Code.OutOfRange:
      return ErrorCategory.VALIDATION;
    case Code.NotFound:
      return ErrorCategory.NOT_FOUND;
    case Code.AlreadyExists:
    case Code.FailedPrecondition:
    case Code.Aborted:
      return ErrorCategory.CONFLICT;
    case Code.ResourceExhausted:
      return ErrorCategory.RATE_LIMIT;
    case Code.Unavailable:
    case Code.DeadlineExceeded:
      return ErrorCategory.TRANSIENT;
    case Code.Internal:
      return ErrorCategory.SERVER;
    default:
      return ErrorCategory.UNKNOWN;
  }
}

/** The category of a platform error code. */
export function categoryForErrorCode(code: ErrorCode): ErrorCategory {
  return taxonomy[code].category;
}

export function shouldRetry(category: ErrorCategory): boolean {
  return (
    category === ErrorCategory.TRANSIENT || category === ErrorCategory.SERVER || category === ErrorCategory.RATE_LIMIT
  );
}

export function shouldAlert(category: ErrorCategory): boolean {
  return category === ErrorCategory.AUTH || category === ErrorCategory.PERMISSION || category === ErrorCategory.SERVER;
}

/** Whether a Node errno for a broken connection sits anywhere in the cause chain. */
export function isNetworkError(err: unknown): boolean {
  for (let e = err, depth = 0; e !== null && typeof e === "object" && depth < 8; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && networkErrorCodes.has(code)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
