import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { Code, type Interceptor, type UnaryRequest } from "@connectrpc/connect";
import { decodeError } from "@cloudforet/errors";
import type { Logger } from "pino";
import { categorize, shouldRetry } from "./categorize";
import { defaultLogger } from "./default-logger";
import { IDEMPOTENCY_KEY_HEADER } from "./idempotency-key";

export { IDEMPOTENCY_KEY_HEADER } from "./idempotency-key";

export interface RetryOptions {
  /** Attempts in all, the first included. Default 3. */
  maxAttempts?: number;
  /** Backoff before the first retry, doubled each time. Default 100 ms. */
  baseDelayMs?: number;
  /** Cap on the exponential backoff (a server's RetryInfo may ask for longer). Default 5000 ms. */
  maxDelayMs?: number;
  /** Budget for all attempts and waits together, on top of the call's own timeout. */
  deadlineMs?: number;
  logger?: Logger;
  /** Waits `ms`, rejecting when `signal` aborts. Injectable for tests. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Uniform in [0, 1). Injectable for tests. */
  random?: () => number;
}

/**
 * Retries failed unary calls whose category is worth retrying (TRANSIENT, SERVER,
 * RATE_LIMIT), with exponential backoff and full jitter, never sooner than the server's
 * RetryInfo asks, and never past the deadline: when the next wait would end after it,
 * the last error is thrown at once.
 */
export function retryInterceptor(options: RetryOptions = {}): Interceptor {
  const maxAttempts = options.maxAttempts ?? 3;
  const baseDelayMs = options.baseDelayMs ?? 100;
  const maxDelayMs = options.maxDelayMs ?? 5000;
  const sleep = options.sleep ?? abortableSleep;
  const random = options.random ?? Math.random;
  const logger = options.logger ?? defaultLogger();

  return (next) => async (req) => {
    if (req.stream || maxAttempts <= 1 || !isSafeToRepeat(req)) return next(req);
    const startedAt = Date.now();
    const deadline = Math.min(
      startedAt + (options.deadlineMs ?? Infinity),
      startedAt + (callTimeoutMs(req.header) ?? Infinity),
    );
    for (let attempt = 1; ; attempt++) {
      try {
        return await next(req);
      } catch (err) {
        if (attempt >= maxAttempts || req.signal.aborted || !shouldRetry(categorize(err))) throw err;
        const decoded = decodeError(err);
        const backoff = random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
        const delay = Math.max(backoff, decoded.retryAfterMs ?? 0);
        if (Date.now() + delay >= deadline) throw err;
        logger.warn(
          {
            service: req.service.typeName,
            method: req.method.name,
            request_id: req.header.get("x-request-id") ?? undefined,
            attempt,
            delay_ms: Math.round(delay),
            code: grpcCodeName(decoded.grpcCode),
            error_code: decoded.code,
          },
          "retrying call",
        );
        await sleep(delay, req.signal);
      }
    }
  };
}

/** Side-effect-free or idempotent by declaration, or deduped by the server through a key. */
function isSafeToRepeat(req: UnaryRequest): boolean {
  const level = req.method.idempotency;
  return (
    level === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS ||
    level === MethodOptions_IdempotencyLevel.IDEMPOTENT ||
    req.header.has(IDEMPOTENCY_KEY_HEADER)
  );
}

const grpcTimeoutUnitMs: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 1e-3, n: 1e-6 };

/** The call's own timeout, as the transport wrote it into the request headers. */
function callTimeoutMs(header: Headers): number | undefined {
  const connectTimeout = header.get("connect-timeout-ms");
  if (connectTimeout !== null) return Number(connectTimeout);
  const match = /^(\d+)([HMSmun])$/.exec(header.get("grpc-timeout") ?? "");
  return match ? Number(match[1]) * grpcTimeoutUnitMs[match[2]] : undefined;
}

/** "DeadlineExceeded" → "DEADLINE_EXCEEDED", as gRPC spells it. */
export function grpcCodeName(code: Code): string {
  return (Code[code] ?? String(code)).replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
