import { Code } from "@connectrpc/connect";
import { ErrorCode, taxonomy } from "./taxonomy";

const brand = Symbol.for("cloudforet.PlatformError");

export interface PlatformErrorOptions {
  /** The offending ids and parameters, as strings (ErrorInfo.metadata). */
  metadata?: Record<string, string | number | boolean | undefined>;
  /** Overrides the code's usual gRPC status (an illegal state transition is FAILED_PRECONDITION). */
  grpcCode?: Code;
  /** For ERROR_RATE_LIMITED: how long the caller should wait (RetryInfo). */
  retryAfterMs?: number;
  cause?: unknown;
}

/**
 * A failure the platform means to report: a taxonomy code, a human message and the
 * metadata a program needs. Handlers throw it; the runtime turns it into a gRPC status.
 */
export class PlatformError extends Error {
  readonly code: ErrorCode;
  readonly metadata: Record<string, string>;
  readonly grpcCode: Code;
  readonly retryAfterMs?: number;

  constructor(code: ErrorCode, message: string, options: PlatformErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = "PlatformError";
    this.code = code;
    this.metadata = stringifyMetadata(options.metadata);
    this.grpcCode = options.grpcCode ?? taxonomy[code].grpc;
    this.retryAfterMs = options.retryAfterMs;
    Object.defineProperty(this, brand, { value: true });
  }

  /** Survives two copies of this package in one process. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[brand] === true;
  }
}

function stringifyMetadata(metadata: PlatformErrorOptions["metadata"]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata ?? {})) {
    if (value !== undefined) out[key] = printable(typeof value === "string" ? value : JSON.stringify(value));
  }
  return out;
}

/**
 * Text that is safe to echo back and to store (Postgres text and jsonb refuse NUL, protobuf and
 * JSON encoders lone surrogates): each NUL and broken surrogate becomes U+FFFD.
 */
export function printable(text: string): string {
  return text.replace(/\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD");
}

/** A caller's value as an error echoes it: printable, and at most `max` characters (then "…"). */
export function echoedValue(text: string, max = 256): string {
  const safe = printable(text);
  return safe.length > max ? `${safe.slice(0, max)}…` : safe;
}

type Metadata = PlatformErrorOptions["metadata"];

export const invalidParameter = (message: string, metadata?: Metadata) =>
  new PlatformError(ErrorCode.INVALID_PARAMETER, message, { metadata });

/** A required field that is absent: seed 000's "Missing required field" with `parameter`. */
export const missingParameter = (parameter: string) =>
  new PlatformError(ErrorCode.INVALID_PARAMETER, "Missing required field", { metadata: { parameter } });

export const authenticateFailure = (message: string, metadata?: Metadata) =>
  new PlatformError(ErrorCode.AUTHENTICATE_FAILURE, message, { metadata });

export const permissionDenied = (message: string, metadata?: Metadata) =>
  new PlatformError(ErrorCode.PERMISSION_DENIED, message, { metadata });

export const notFound = (message: string, metadata?: Metadata) =>
  new PlatformError(ErrorCode.NOT_FOUND, message, { metadata });

export const conflict = (message: string, metadata?: Metadata) =>
  new PlatformError(ErrorCode.CONFLICT, message, { metadata });

/** ERROR_CONFLICT for a state change the entity's state machine does not allow. */
export const illegalTransition = (message: string, metadata?: Metadata) =>
  new PlatformError(ErrorCode.CONFLICT, message, { metadata, grpcCode: Code.FailedPrecondition });

export const payloadTooLarge = (message: string, metadata?: Metadata) =>
  new PlatformError(ErrorCode.PAYLOAD_TOO_LARGE, message, { metadata });

export const rateLimited = (message: string, retryAfterMs: number, metadata?: Metadata) =>
  new PlatformError(ErrorCode.RATE_LIMITED, message, { metadata, retryAfterMs });

export const serviceUnavailable = (message: string, metadata?: Metadata, cause?: unknown) =>
  new PlatformError(ErrorCode.SERVICE_UNAVAILABLE, message, { metadata, cause });

export const timeout = (message: string, metadata?: Metadata) =>
  new PlatformError(ErrorCode.TIMEOUT, message, { metadata });
