import { randomUUID } from "node:crypto";
import type { DescService } from "@bufbuild/protobuf";
import { Code, type CallOptions, type Client as ConnectClient } from "@connectrpc/connect";
import { createServiceClient, IDEMPOTENCY_KEY_HEADER, type RetryOptions } from "@cloudforet/resilience";
import { toAPIError } from "./errors";
import type { Session } from "./session";

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
}

export interface TransportSettings {
  session: Session;
  timeoutMs: number;
  retries: RetryOptions | false;
  protocol: "grpc" | "connect";
}

/**
 * Calls of one service: resilience's client (deadline, jittered retries of retryable codes,
 * circuit breaker, request id) with the session's token, an idempotency key per logical
 * call, one re-login after a 401, and every failure as an `APIError`.
 */
export class ServiceCaller<S extends DescService> {
  private readonly client: ConnectClient<S>;

  constructor(
    service: S,
    readonly url: string,
    private readonly settings: TransportSettings,
  ) {
    this.client = createServiceClient(service, url, {
      protocol: settings.protocol,
      timeoutMs: settings.timeoutMs,
      retries: settings.retries,
      upstream: `${service.typeName}@${new URL(url).host}`,
    });
  }

  /** One unary (or client-streaming) call. */
  async call<T>(fn: (client: ConnectClient<S>, options: CallOptions) => Promise<T>, options: RequestOptions = {}): Promise<T> {
    const callOptions = this.callOptions(options);
    for (let attempt = 1; ; attempt++) {
      const token = await this.settings.session.token();
      callOptions.headers = { ...(callOptions.headers as Record<string, string>), authorization: `Bearer ${token}` };
      try {
        return await fn(this.client, callOptions);
      } catch (err) {
        const error = toAPIError(err);
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
    headers[IDEMPOTENCY_KEY_HEADER] = options.idempotencyKey ?? randomUUID();
    return { headers, timeoutMs: options.timeoutMs, signal: options.signal };
  }
}
