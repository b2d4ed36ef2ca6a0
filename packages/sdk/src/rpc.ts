import type { DescService } from "@bufbuild/protobuf";
import { Code, type CallOptions, type Client as ConnectClient } from "@connectrpc/connect";
import { IDEMPOTENCY_KEY_HEADER } from "@cloudforet/resilience/core";
import { toAPIError } from "./errors";
import type { Session } from "./session";

/** The header that names a call in every service's logs. */
export const REQUEST_ID_HEADER = "x-request-id";

/** What came back with a successful call besides its message. */
export interface ResponseInfo {
  /** The response headers (e.g. `x-request-id`). */
  headers: Headers;
  /** The response trailers (gRPC status metadata). */
  trailers: Headers;
  /** The request id of the call: the one the service echoed, else the one the SDK sent. */
  requestId: string;
}

/** Options every SDK call takes. */
export interface RequestOptions {
  /** Deadline of this call, retries included (default: the client's `timeoutMs`). */
  timeoutMs?: number;
  /** Aborts the call (and its retries, or the stream). */
  signal?: AbortSignal;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** The idempotency key of this logical call (default: a fresh one). Pass your own to dedupe across processes. */
  idempotencyKey?: string;
  /** The request id of this logical call (default: a fresh one); the services log it and echo it back. */
  requestId?: string;
  /** Called with the response headers, trailers and request id once a unary call succeeded (see `withResponse`). */
  onResponse?: (response: ResponseInfo) => void;
}

export interface TransportSettings {
  session: Session;
  timeoutMs: number;
}

/**
 * Calls of one service: resilience's client (deadline, jittered retries of retryable codes,
 * circuit breaker, request id) with the session's token, an idempotency key per logical
 * call, one re-login after a 401, and every failure as an `APIError`.
 */
export class ServiceCaller<S extends DescService> {
  constructor(
    private readonly client: ConnectClient<S>,
    private readonly settings: TransportSettings,
  ) {}

  /** One unary (or client-streaming) call. */
  async call<T>(fn: (client: ConnectClient<S>, options: CallOptions) => Promise<T>, options: RequestOptions = {}): Promise<T> {
    const callOptions = this.callOptions(options);
    for (let attempt = 1; ; attempt++) {
      const token = await this.settings.session.token();
      callOptions.headers = { ...(callOptions.headers as Record<string, string>), authorization: `Bearer ${token}` };
      const response = { headers: new Headers(), trailers: new Headers() };
      callOptions.onHeader = (headers) => (response.headers = headers);
      callOptions.onTrailer = (trailers) => (response.trailers = trailers);
      try {
        const result = await fn(this.client, callOptions);
        const requestId = (callOptions.headers as Record<string, string>)[REQUEST_ID_HEADER];
        options.onResponse?.({ ...response, requestId: response.headers.get(REQUEST_ID_HEADER) ?? requestId });
        return result;
      } catch (err) {
        const error = toAPIError(err, { requestId: (callOptions.headers as Record<string, string>)[REQUEST_ID_HEADER] });
        if (error.grpcCode === Code.Unauthenticated && attempt === 1 && this.settings.session.canLogin) {
          // The token was refused (revoked, signing key rotated): log in again once, same idempotency key.
          this.settings.session.invalidate(token);
          continue;
        }
        throw error;
      }
    }
  }

  /**
   * A server stream as an async iterable. Leaving the loop early (break, return, throw) or
   * aborting `signal` cancels the call on the server.
   */
  stream<T>(fn: (client: ConnectClient<S>, options: CallOptions) => AsyncIterable<T>, options: RequestOptions = {}): AsyncIterable<T> {
    const self = this;
    return {
      async *[Symbol.asyncIterator]() {
        const controller = new AbortController();
        const onAbort = () => controller.abort(options.signal?.reason);
        if (options.signal?.aborted) onAbort();
        options.signal?.addEventListener("abort", onAbort, { once: true });
        // A stream lives as long as its reader wants: no deadline unless the caller sets one.
        try {
          const token = await self.settings.session.token();
          const base = self.callOptions(options);
          const callOptions: CallOptions = {
            ...base,
            headers: { ...(base.headers as Record<string, string>), authorization: `Bearer ${token}` },
            signal: controller.signal,
            timeoutMs: options.timeoutMs ?? 0,
          };
          yield* fn(self.client, callOptions);
        } catch (err) {
          throw toAPIError(err);
        } finally {
          options.signal?.removeEventListener("abort", onAbort);
          controller.abort();
        }
      },
    };
  }

  private callOptions(options: RequestOptions): CallOptions {
    const headers: Record<string, string> = { ...options.headers };
    // One key per logical call, reused by every retry of it: the call may be sent again safely.
    headers[IDEMPOTENCY_KEY_HEADER] = options.idempotencyKey ?? globalThis.crypto.randomUUID();
    // One request id per logical call too, so every attempt and the error name the same call.
    headers[REQUEST_ID_HEADER] = options.requestId ?? headers[REQUEST_ID_HEADER] ?? globalThis.crypto.randomUUID();
    return { headers, timeoutMs: options.timeoutMs, signal: options.signal };
  }
}
