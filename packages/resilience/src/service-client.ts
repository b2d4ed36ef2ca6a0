import { randomUUID } from "node:crypto";
import type { DescService } from "@bufbuild/protobuf";
import { createClient, type CallOptions, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { createCircuitBreaker, type CircuitBreakerOptions, type UpstreamCircuitBreaker } from "./circuit-breaker";
import { ClientError } from "./client-error";
import { clientMetricsInterceptor } from "./client-metrics";
import { clientTracing } from "./client-tracing";
import { defaultLogger } from "./default-logger";
import { ReplaceableSession } from "./replaceable-session";
import { retryInterceptor, type RetryOptions } from "./retry";

/** The headers of the caller's own request that travel on to the upstream. */
export const FORWARDED_HEADERS = ["authorization", "x-request-id"] as const;

/** Headers to forward: given once, or looked up per call (e.g. from the incoming request). */
export type HeaderSource = HeaderInit | (() => HeaderInit | undefined | Promise<HeaderInit | undefined>);

type HeaderInit = ConstructorParameters<typeof Headers>[0];

export interface ServiceClientOptions {
  /** Wire protocol. Default "grpc" (HTTP/2 prior knowledge, h2c on plaintext URLs). */
  protocol?: "grpc" | "connect" | "grpc-web";
  /** HTTP version for "connect" and "grpc-web"; gRPC is always HTTP/2. Default "2". */
  httpVersion?: "1.1" | "2";
  /** Deadline of a whole call, retries and backoff included. Default 30 000 ms; a call may pass its own. */
  timeoutMs?: number;
  /** Retry options (maxAttempts 3, baseDelayMs 100, maxDelayMs 5000), or false for none. */
  retries?: RetryOptions | false;
  /** Breaker options, a breaker shared with other clients of the same upstream, or false for none. */
  breaker?: CircuitBreakerOptions | UpstreamCircuitBreaker | false;
  /** The upstream's name in logs and metrics. Default: the URL's host:port. */
  upstream?: string;
  /** Source of `authorization` and `x-request-id`; a call's own headers win. */
  headers?: HeaderSource;
  logger?: Logger;
  /** Registry of the breaker's state gauge and the grpc_client_* series. Default: prom-client's global registry. */
  registry?: Registry;
  /**
   * Node connection options for the transport (e.g. a `lookup` or an HTTP/2 `createConnection`
   * that enforces a server's outbound policy); the caller injects them, this package stays neutral.
   */
  nodeOptions?: Record<string, unknown>;
  /**
   * Largest message accepted from the upstream (bytes). Refused as soon as its length prefix
   * arrives, before it is buffered. Default: Connect's (4 GiB), so set it for untrusted peers.
   */
  readMaxBytes?: number;
  /** Largest message sent (bytes); a larger one fails the call before it leaves. */
  writeMaxBytes?: number;
}

/**
 * The one way a service, the SDK or a plugin calls another service: a Connect client
 * whose calls carry a deadline, the caller's auth and request id, are retried when that
 * is safe and useful, go through the upstream's circuit breaker, and fail with a ClientError.
 */
export function createServiceClient<S extends DescService>(
  service: S,
  url: string,
  options: ServiceClientOptions = {},
): Client<S> {
  const logger = options.logger ?? defaultLogger();
  const upstream = options.upstream ?? new URL(url).host;
  // Outermost: one CLIENT span per logical call (retries and breaker inside it); a pass-through when tracing is off.
  const interceptors: Interceptor[] = [clientTracing(options.protocol === "connect" ? "connect_rpc" : "grpc")];
  // grpc_client_* per logical call, outside the retries (a retried call counts once, with its final code).
  interceptors.push(clientMetricsInterceptor(options.registry));
  // Retry runs outside the breaker, so the breaker sees (and counts) every attempt and trips
  // as soon as the upstream is really down; after that the remaining attempts fail fast, and
  // the fail-fast error's RetryInfo (time until the next probe) ends the retry loop whenever
  // waiting for the probe would overrun the deadline. Inside-out, one logical call would
  // count once however many attempts hit the upstream, and retries would hammer an open circuit.
  if (options.retries !== false) interceptors.push(retryInterceptor({ logger, ...options.retries }));
  if (options.breaker !== false) {
    const breaker = isBreaker(options.breaker)
      ? options.breaker
      : createCircuitBreaker(upstream, { logger, registry: options.registry, ...options.breaker });
    interceptors.push(breaker.interceptor);
  }
  // HTTP/2 sessions are replaceable: a session the upstream refuses streams on (after one bad
  // call) is swapped for a new connection instead of failing every later call of every caller.
  const session = usesHttp2(options) ? new ReplaceableSession(url, logger, upstream, undefined, options.nodeOptions) : undefined;
  if (session) interceptors.push(session.interceptor);
  // The deadline is the transport's: Connect arms it once per call, around all interceptors,
  // so it bounds every attempt and every backoff together.
  const transport = createTransport(url, options, interceptors, session);
  return withClientErrors(service, createClient(service, transport), options.headers);
}

function usesHttp2(options: ServiceClientOptions): boolean {
  return (options.protocol ?? "grpc") === "grpc" || options.httpVersion !== "1.1";
}

function createTransport(url: string, options: ServiceClientOptions, interceptors: Interceptor[], session: ReplaceableSession | undefined): Transport {
  const common = {
    baseUrl: url,
    interceptors,
    defaultTimeoutMs: options.timeoutMs ?? 30_000,
    ...(options.nodeOptions ? { nodeOptions: options.nodeOptions } : {}),
    ...(session ? { sessionManager: session } : {}),
    ...(options.readMaxBytes !== undefined ? { readMaxBytes: options.readMaxBytes } : {}),
    ...(options.writeMaxBytes !== undefined ? { writeMaxBytes: options.writeMaxBytes } : {}),
  };
  const http = options.httpVersion === "1.1" ? { httpVersion: "1.1" as const } : { httpVersion: "2" as const };
  switch (options.protocol ?? "grpc") {
    case "grpc":
      return createGrpcTransport(common);
    case "grpc-web":
      return createGrpcWebTransport({ ...common, ...http });
    case "connect":
      return createConnectTransport({ ...common, ...http });
  }
}

type AnyMethod = (input: unknown, options?: CallOptions) => unknown;

/**
 * Wraps each method so that the forwarded headers are set and every failure, however it
 * arose (status, network, deadline, open circuit), is thrown as a ClientError.
 */
function withClientErrors<S extends DescService>(service: S, client: Client<S>, headers?: HeaderSource): Client<S> {
  const methods = client as unknown as Record<string, AnyMethod>;
  const wrapped: Record<string, AnyMethod> = {};
  for (const method of service.methods) {
    const call = methods[method.localName];
    if (method.methodKind === "unary" || method.methodKind === "client_streaming") {
      wrapped[method.localName] = async (input, callOptions) => {
        const options = await withForwardedHeaders(headers, callOptions);
        try {
          return await call(input, options);
        } catch (err) {
          throw ClientError.from(err, { requestId: options.headers.get("x-request-id") ?? undefined });
        }
      };
    } else {
      wrapped[method.localName] = async function* (input, callOptions) {
        const options = await withForwardedHeaders(headers, callOptions);
        try {
          yield* call(input, options) as AsyncIterable<unknown>;
        } catch (err) {
          throw ClientError.from(err, { requestId: options.headers.get("x-request-id") ?? undefined });
        }
      };
    }
  }
  return wrapped as unknown as Client<S>;
}

async function withForwardedHeaders(
  source: HeaderSource | undefined,
  callOptions: CallOptions = {},
): Promise<CallOptions & { headers: Headers }> {
  const given = new Headers((typeof source === "function" ? await source() : source) ?? undefined);
  const headers = new Headers();
  for (const name of FORWARDED_HEADERS) {
    const value = given.get(name);
    if (value !== null) headers.set(name, value);
  }
  new Headers(callOptions.headers).forEach((value, name) => headers.set(name, value));
  // One id for the whole logical call, so every attempt and the final error share it.
  if (!headers.has("x-request-id")) headers.set("x-request-id", randomUUID());
  return { ...callOptions, headers };
}

function isBreaker(value: ServiceClientOptions["breaker"]): value is UpstreamCircuitBreaker {
  return typeof value === "object" && "interceptor" in value;
}
