import { Code } from "@connectrpc/connect";

/** The platform's error codes (SPEC §3). `reason` of every ErrorInfo is one of these. */
export const ErrorCode = {
  INVALID_PARAMETER: "ERROR_INVALID_PARAMETER",
  AUTHENTICATE_FAILURE: "ERROR_AUTHENTICATE_FAILURE",
  PERMISSION_DENIED: "ERROR_PERMISSION_DENIED",
  NOT_FOUND: "ERROR_NOT_FOUND",
  CONFLICT: "ERROR_CONFLICT",
  PAYLOAD_TOO_LARGE: "ERROR_PAYLOAD_TOO_LARGE",
  RATE_LIMITED: "ERROR_RATE_LIMITED",
  SERVICE_UNAVAILABLE: "ERROR_SERVICE_UNAVAILABLE",
  TIMEOUT: "ERROR_TIMEOUT",
  UNKNOWN: "ERROR_UNKNOWN",
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** What kind of failure a call ended in (seed 000, pattern 2), as clients sort them. */
export const ErrorCategory = {
  AUTH: "AUTH_ERROR",
  PERMISSION: "PERMISSION_ERROR",
  VALIDATION: "VALIDATION_ERROR",
  NOT_FOUND: "NOT_FOUND_ERROR",
  CONFLICT: "CONFLICT_ERROR",
  RATE_LIMIT: "RATE_LIMIT_ERROR",
  TRANSIENT: "TRANSIENT_ERROR",
  SERVER: "SERVER_ERROR",
  UNKNOWN: "UNKNOWN_ERROR",
} as const;

export type ErrorCategory = (typeof ErrorCategory)[keyof typeof ErrorCategory];

export interface TaxonomyEntry {
  /** The category a client sorts the failure into. */
  category: ErrorCategory;
  /** The gRPC status the code travels as. */
  grpc: Code;
  /** The HTTP status of the same failure (REST and Connect unary). */
  http: number;
  /** Whether a client may retry the same call. */
  retry: boolean;
}

/** The table of SPEC §3, row for row. */
export const taxonomy: Readonly<Record<ErrorCode, TaxonomyEntry>> = {
  ERROR_INVALID_PARAMETER: { category: ErrorCategory.VALIDATION, grpc: Code.InvalidArgument, http: 400, retry: false },
  ERROR_AUTHENTICATE_FAILURE: { category: ErrorCategory.AUTH, grpc: Code.Unauthenticated, http: 401, retry: false },
  ERROR_PERMISSION_DENIED: { category: ErrorCategory.PERMISSION, grpc: Code.PermissionDenied, http: 403, retry: false },
  ERROR_NOT_FOUND: { category: ErrorCategory.NOT_FOUND, grpc: Code.NotFound, http: 404, retry: false },
  ERROR_CONFLICT: { category: ErrorCategory.CONFLICT, grpc: Code.AlreadyExists, http: 409, retry: false },
  ERROR_PAYLOAD_TOO_LARGE: { category: ErrorCategory.VALIDATION, grpc: Code.ResourceExhausted, http: 413, retry: false },
  ERROR_RATE_LIMITED: { category: ErrorCategory.RATE_LIMIT, grpc: Code.ResourceExhausted, http: 429, retry: true },
  ERROR_SERVICE_UNAVAILABLE: { category: ErrorCategory.TRANSIENT, grpc: Code.Unavailable, http: 503, retry: true },
  ERROR_TIMEOUT: { category: ErrorCategory.TRANSIENT, grpc: Code.DeadlineExceeded, http: 504, retry: true },
  ERROR_UNKNOWN: { category: ErrorCategory.SERVER, grpc: Code.Internal, http: 500, retry: true },
};

/** The error code a bare gRPC status stands for, when a peer sent no ErrorInfo. */
export function errorCodeForGrpc(code: Code): ErrorCode {
  switch (code) {
    case Code.InvalidArgument:
    case Code.OutOfRange:
      return ErrorCode.INVALID_PARAMETER;
    case Code.Unauthenticated:
      return ErrorCode.AUTHENTICATE_FAILURE;
    case Code.PermissionDenied:
      return ErrorCode.PERMISSION_DENIED;
    case Code.NotFound:
    case Code.Unimplemented: // no such method here: a caller's mistake, never worth a retry
      return ErrorCode.NOT_FOUND;
    case Code.AlreadyExists:
    case Code.FailedPrecondition:
    case Code.Aborted:
      return ErrorCode.CONFLICT;
    case Code.ResourceExhausted:
      return ErrorCode.RATE_LIMITED;
    case Code.Unavailable:
      return ErrorCode.SERVICE_UNAVAILABLE;
    case Code.DeadlineExceeded:
      return ErrorCode.TIMEOUT;
    default:
      return ErrorCode.UNKNOWN;
  }
}
