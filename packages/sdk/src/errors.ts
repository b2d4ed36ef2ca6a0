import { Code } from "@connectrpc/connect";
import { ErrorCode, errorToJSON, taxonomy, type ErrorJSON } from "@cloudforet/errors";
import { ClientError, isNetworkError } from "@cloudforet/resilience/core";

/** Marks an instance with the names of every error class it belongs to; shared by all copies of the SDK. */
const kinds = Symbol.for("cloudforet.sdk.errorKinds");

/** The JSON of an error (seed 000, pattern 4). */
export type APIErrorJSON = ErrorJSON;

export interface APIErrorInit {
  message: string;
  grpcCode: Code;
  errorCode: string;
  httpStatus?: number;
  details?: Record<string, string>;
  requestId?: string;
  shouldRetry?: boolean;
  retryAfterMs?: number;
  cause?: unknown;
}

/**
 * Every error the SDK throws. Catch this for "anything went wrong", or one of its subclasses
 * for the cases a program handles: `instanceof` works even when two copies of the SDK are loaded.
 */
export class APIError extends Error {
  /** The class name `instanceof` checks by (not the minified constructor name). */
  static readonly kind: string = "APIError";
  /** The gRPC status code (`Code` of @connectrpc/connect). */
  readonly grpcCode: Code;
  /** The HTTP status the taxonomy gives this error (SPEC §3). */
  readonly httpStatus: number;
  /** The platform's error code, e.g. `ERROR_NOT_FOUND`. */
  readonly errorCode: string;
  /** ErrorInfo metadata: the offending ids and parameters, e.g. `{ job_id: "job-…" }`. */
  readonly details: Record<string, string>;
  /** The `x-request-id` of the call, to find it in the services' logs. */
  readonly requestId?: string;
  /** Whether the same call could succeed later (the SDK has already retried it when that was safe). */
  readonly shouldRetry: boolean;
  /** The server's RetryInfo delay, when it sent one. */
  readonly retryAfterMs?: number;

  constructor(init: APIErrorInit) {
    super(init.message, { cause: init.cause });
    const kind = (new.target as typeof APIError).kind;
    this.name = kind;
    this.grpcCode = init.grpcCode;
    this.errorCode = init.errorCode;
    this.httpStatus = init.httpStatus ?? httpStatusOf(init.errorCode, init.grpcCode);
    this.details = { ...(init.details ?? {}) };
    this.requestId = init.requestId;
    this.shouldRetry = init.shouldRetry ?? false;
    this.retryAfterMs = init.retryAfterMs;
    const chain: string[] = [];
    for (let c = new.target as unknown as typeof APIError | null; c && typeof c.kind === "string"; c = Object.getPrototypeOf(c)) {
      if (!chain.includes(c.kind)) chain.push(c.kind);
      if (c.kind === "APIError") break;
    }
    Object.defineProperty(this, kinds, { value: chain });
  }

  toJSON(): APIErrorJSON {
    return errorToJSON(this);
  }

  /** Brand check instead of the prototype chain, so errors of another copy of the SDK match. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (typeof value !== "object" || value === null) return false;
    const chain = (value as Record<symbol, unknown>)[kinds];
    return Array.isArray(chain) && chain.includes(this.kind);
  }
}

/** The credentials were refused (UNAUTHENTICATED, 401): a wrong, revoked or expired key or password. */
export class AuthenticationError extends APIError {
  static override readonly kind: string = "AuthenticationError";
}
/** The caller may not do this (PERMISSION_DENIED, 403). */
export class PermissionDeniedError extends APIError {
  static override readonly kind: string = "PermissionDeniedError";
}
/** The resource does not exist, or is not visible to the caller (NOT_FOUND, 404). */
export class NotFoundError extends APIError {
  static override readonly kind: string = "NotFoundError";
}
/** The request was invalid (INVALID_ARGUMENT, 400; also a payload too large, 413). `details.parameter` names the field. */
export class ValidationError extends APIError {
  static override readonly kind: string = "ValidationError";
}
/** The resource already exists, or the change is illegal in its current state (409 / 400). */
export class ConflictError extends APIError {
  static override readonly kind: string = "ConflictError";
}
/** Too many requests (429); `retryAfterMs` says how long to wait. */
export class RateLimitError extends APIError {
  static override readonly kind: string = "RateLimitError";
}
/** The service failed or is unavailable (INTERNAL 500, UNAVAILABLE 503); retried before being thrown. */
export class ServerError extends APIError {
  static override readonly kind: string = "ServerError";
}
/** The service could not be reached at all (connection refused, reset, DNS). */
export class ConnectionError extends APIError {
  static override readonly kind: string = "ConnectionError";
}
/** The call's deadline (`timeoutMs`) passed before it completed (DEADLINE_EXCEEDED, 504). */
export class TimeoutError extends APIError {
  static override readonly kind: string = "TimeoutError";
}

function httpStatusOf(errorCode: string, grpcCode: Code): number {
  if (grpcCode === Code.FailedPrecondition) return 400;
  return Object.hasOwn(taxonomy, errorCode) ? taxonomy[errorCode as ErrorCode].http : 500;
}

/** The SDK error for any failure of a call: a status, a network error, a deadline, an open circuit. */
export function toAPIError(err: unknown, context: { requestId?: string } = {}): APIError {
  if (err instanceof APIError) return err;
  const client = ClientError.from(err, context);
  const init: APIErrorInit = {
    message: client.message,
    grpcCode: client.grpcCode,
    errorCode: client.errorCode,
    httpStatus: client.httpStatus,
    details: client.details,
    requestId: client.requestId,
    shouldRetry: client.shouldRetry,
    retryAfterMs: client.retryAfterMs,
    cause: err,
  };
  if (client.grpcCode === Code.Canceled) return new APIError({ ...init, shouldRetry: false });
  switch (client.errorCode) {
    case ErrorCode.AUTHENTICATE_FAILURE:
      return new AuthenticationError(init);
    case ErrorCode.PERMISSION_DENIED:
      return new PermissionDeniedError(init);
    case ErrorCode.NOT_FOUND:
      return new NotFoundError(init);
    case ErrorCode.INVALID_PARAMETER:
    case ErrorCode.PAYLOAD_TOO_LARGE:
      return new ValidationError(init);
    case ErrorCode.CONFLICT:
      return new ConflictError(init);
    case ErrorCode.RATE_LIMITED:
      return new RateLimitError(init);
    case ErrorCode.TIMEOUT:
      return new TimeoutError(init);
    case ErrorCode.SERVICE_UNAVAILABLE:
      return isNetworkError(err) ? new ConnectionError(init) : new ServerError(init);
    default:
      return new ServerError(init);
  }
}

/** An error of the SDK's own configuration (missing URL, missing user for an API key). */
export function configurationError(message: string, parameter: string): ValidationError {
  return new ValidationError({
    message,
    grpcCode: Code.InvalidArgument,
    errorCode: ErrorCode.INVALID_PARAMETER,
    details: { parameter },
  });
}
