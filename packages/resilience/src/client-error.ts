import { Code } from "@connectrpc/connect";
import { ErrorCode, PlatformError, decodeError, errorToJSON, taxonomy, toConnectError, type ErrorJSON } from "@cloudforet/errors";
import { categorize, ErrorCategory, isNetworkError, shouldRetry } from "./categorize";

const brand = Symbol.for("cloudforet.ClientError");

export interface ClientErrorInit {
  errorCode: ErrorCode;
  grpcCode: Code;
  message: string;
  details?: Record<string, string>;
  requestId?: string;
  category: ErrorCategory;
  retryAfterMs?: number;
  cause?: unknown;
}

/** The JSON shape of seed 000, pattern 4. */
export type ClientErrorJSON = ErrorJSON<ErrorCode>;

/**
 * How a failed service-to-service call reaches its caller, whatever went wrong: a peer's
 * status, a network failure, an open circuit or a deadline. Carries the taxonomy code,
 * the category and whether trying again could help.
 */
export class ClientError extends Error {
  readonly errorCode: ErrorCode;
  readonly grpcCode: Code;
  readonly httpStatus: number;
  /** ErrorInfo metadata: the offending ids and parameters. */
  readonly details: Record<string, string>;
  readonly requestId?: string;
  readonly category: ErrorCategory;
  readonly shouldRetry: boolean;
  /** The peer's RetryInfo delay, when it sent one. */
  readonly retryAfterMs?: number;

  constructor(init: ClientErrorInit) {
    super(init.message, { cause: init.cause });
    this.name = "ClientError";
    this.errorCode = init.errorCode;
    this.grpcCode = init.grpcCode;
    // An illegal state transition is ERROR_CONFLICT over FAILED_PRECONDITION, which is a 400 (SPEC §3).
    this.httpStatus = init.grpcCode === Code.FailedPrecondition ? 400 : taxonomy[init.errorCode].http;
    this.details = { ...(init.details ?? {}) };
    this.requestId = init.requestId;
    this.category = init.category;
    this.shouldRetry = shouldRetry(init.category);
    this.retryAfterMs = init.retryAfterMs;
    Object.defineProperty(this, brand, { value: true });
  }

  /** Builds a ClientError from any failure; `requestId` is the id the call was sent with. */
  static from(err: unknown, context: { requestId?: string } = {}): ClientError {
    if (err instanceof ClientError) return err;
    const category = categorize(err);
    const decoded = decodeError(err instanceof PlatformError ? toConnectError(err, "") : err);
    // A broken connection surfaces as UNKNOWN/ABORTED/INTERNAL; report it as the unavailability it is.
    const unreachable =
      category === ErrorCategory.TRANSIENT &&
      isNetworkError(err) &&
      decoded.grpcCode !== Code.Unavailable &&
      decoded.grpcCode !== Code.DeadlineExceeded;
    return new ClientError({
      errorCode: unreachable ? ErrorCode.SERVICE_UNAVAILABLE : decoded.code,
      grpcCode: unreachable ? Code.Unavailable : decoded.grpcCode,
      message: decoded.message,
      details: decoded.metadata,
      requestId: decoded.requestId ?? context.requestId,
      category,
      retryAfterMs: decoded.retryAfterMs,
      cause: err,
    });
  }

  toJSON(): ClientErrorJSON {
    return errorToJSON(this);
  }

  /** Survives two copies of this package in one process. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[brand] === true;
  }
}
