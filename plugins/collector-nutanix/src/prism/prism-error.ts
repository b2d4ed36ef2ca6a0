import { ErrorCode, PlatformError } from "@cloudforet/errors";
import { ErrorCategory, isNetworkError } from "@cloudforet/resilience";

const brand = Symbol.for("cloudforet.collector-nutanix.PrismError");

/**
 * A failed Prism call, categorized as seed 000 pattern 2 does a gRPC status: the category travels
 * with the error (resilience's `categorize` reads it), and the SPEC §3 code is what the plugin reports.
 */
export class PrismError extends PlatformError {
  readonly category: ErrorCategory;
  /** The HTTP status Prism answered with; undefined for network failures and an open breaker. */
  readonly httpStatus?: number;

  constructor(code: ErrorCode, category: ErrorCategory, message: string, options: { httpStatus?: number; path?: string; cause?: unknown; retryAfterMs?: number } = {}) {
    super(code, message, { metadata: { upstream: "nutanix-prism", path: options.path, http_status: options.httpStatus }, cause: options.cause, retryAfterMs: options.retryAfterMs });
    this.name = "PrismError";
    this.category = category;
    this.httpStatus = options.httpStatus;
    Object.defineProperty(this, brand, { value: true });
  }

  static isPrismError(value: unknown): value is PrismError {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[brand] === true;
  }
}

/** The seed's status table (HTTP code → category → SPEC §3 code) applied to a Prism answer. */
export function prismHttpError(status: number, path: string, body: string): PrismError {
  const detail = prismMessage(body);
  const at = `Prism ${path} answered HTTP ${status}${detail ? `: ${detail}` : ""}`;
  const options = { httpStatus: status, path };
  if (status === 401) return new PrismError(ErrorCode.AUTHENTICATE_FAILURE, ErrorCategory.AUTH, `Invalid Prism credentials (${at})`, options);
  if (status === 403) return new PrismError(ErrorCode.PERMISSION_DENIED, ErrorCategory.PERMISSION, `Prism denied access (${at})`, options);
  if (status === 404) return new PrismError(ErrorCode.NOT_FOUND, ErrorCategory.NOT_FOUND, at, options);
  if (status === 409) return new PrismError(ErrorCode.CONFLICT, ErrorCategory.CONFLICT, at, options);
  if (status === 429) return new PrismError(ErrorCode.RATE_LIMITED, ErrorCategory.RATE_LIMIT, at, options);
  if (status === 502 || status === 503) return new PrismError(ErrorCode.SERVICE_UNAVAILABLE, ErrorCategory.TRANSIENT, `Nutanix Prism unavailable (${at})`, options);
  if (status === 504) return new PrismError(ErrorCode.TIMEOUT, ErrorCategory.TRANSIENT, `Nutanix Prism timed out (${at})`, options);
  if (status >= 500) return new PrismError(ErrorCode.SERVICE_UNAVAILABLE, ErrorCategory.SERVER, `Nutanix Prism failed (${at})`, options);
  if (status >= 400) return new PrismError(ErrorCode.INVALID_PARAMETER, ErrorCategory.VALIDATION, at, options);
  return new PrismError(ErrorCode.UNKNOWN, ErrorCategory.UNKNOWN, at, options);
}

/** A failure before any answer: refused connection, reset, TLS, a timeout, or a body that is not v3 JSON. */
export function prismTransportError(err: unknown, path: string, timedOut: boolean): PrismError {
  if (PrismError.isPrismError(err)) return err;
  const reason = describe(err);
  const tlsCode = tlsFailureCode(err);
  if (tlsCode) {
    return new PrismError(
      ErrorCode.INVALID_PARAMETER,
      ErrorCategory.VALIDATION,
      `Prism's TLS certificate was rejected (${tlsCode}); set verify_ssl to false in the secret for a self-signed Prism`,
      { path, cause: err },
    );
  }
  if (timedOut) return new PrismError(ErrorCode.TIMEOUT, ErrorCategory.TRANSIENT, `Nutanix Prism timed out on ${path}`, { path, cause: err });
  if (isNetworkError(err) || (err instanceof TypeError && /fetch failed/.test(err.message))) {
    return new PrismError(ErrorCode.SERVICE_UNAVAILABLE, ErrorCategory.TRANSIENT, `Nutanix Prism unreachable on ${path}: ${reason}`, { path, cause: err });
  }
  return new PrismError(ErrorCode.UNKNOWN, ErrorCategory.UNKNOWN, `Nutanix Prism call ${path} failed: ${reason}`, { path, cause: err });
}

const TLS_CODES = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

/** A certificate verification failure, which no retry fixes. */
function tlsFailureCode(err: unknown): string | undefined {
  for (let e = err, depth = 0; e !== null && typeof e === "object" && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && TLS_CODES.has(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The error's own message, or its cause's (undici wraps the errno in `cause`). */
function describe(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } } | null)?.cause;
  if (cause?.code) return `${cause.code}${cause.message ? ` ${cause.message}` : ""}`;
  return err instanceof Error ? err.message : String(err);
}

/** Prism's v3 error body: `{state: "ERROR", message_list: [{message, reason}]}`. */
function prismMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { message_list?: { message?: string; reason?: string }[]; message?: string };
    const first = parsed.message_list?.[0];
    return (first?.message ?? first?.reason ?? parsed.message ?? "").slice(0, 200);
  } catch {
    return body.slice(0, 200);
  }
}
