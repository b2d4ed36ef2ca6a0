import { setMaxListeners } from "node:events";
import type { DescService } from "@bufbuild/protobuf";
import { randomUUID } from "node:crypto";
import { type ConnectRouter, type HandlerContext, type Interceptor } from "@connectrpc/connect";
import { ErrorCode, PlatformError, invalidParameter, payloadTooLarge, toConnectError } from "@cloudforet/errors";
import type { Logger } from "pino";
import { file_google_rpc_error_details } from "@cloudforet/proto/google/rpc/error_details_pb";
import { Health } from "@cloudforet/proto/grpc/health/v1/health_pb";
import { ServerReflection } from "@cloudforet/proto/grpc/reflection/v1/reflection_pb";
import { ServerReflection as ServerReflectionV1alpha } from "@cloudforet/proto/grpc/reflection/v1alpha/reflection_pb";
import type { RequestAuthenticator } from "./auth-gate";
import { defaultTransportLimits, type TransportLimits } from "./config";
import { errorMappingInterceptor, toTaxonomyError } from "./error-mapping";
import { HealthRegistry, ServingStatus } from "./health";
import {
  checkReadiness,
  operationalEndpoints,
  requestTargetProblem,
  sendJson,
  sendTaxonomyError,
  taxonomyErrorBody,
  type HttpHandler,
  type ReadinessChecks,
  type ReadinessReport,
} from "./http-endpoints";
import { createRpcMetrics, type RpcMetrics } from "./metrics";
import { codeName, observabilityInterceptor } from "./observability";
import { listenPlaintext, type RequestListener } from "./plaintext-server";
import { peerContextValues, type TrustedProxies } from "./peer-address";
import { serverTracing } from "./tracing";
import { createRpcAdapter, transportStateKey } from "./rpc-adapter";
import { DescriptorIndex, registerReflection } from "@cloudforet/reflection";

export interface ServerOptions {
  /** The service's name, e.g. "cloud-service" (logs, metrics). */
  name: string;
  /** The package errors are reported from, e.g. "cloudforet.cloud_service.v1" (ErrorInfo.domain). */
  domain: string;
  host: string;
  port: number;
  /** The gRPC services registered by `routes`, for reflection and per-service health. */
  services: DescService[];
  routes: (router: ConnectRouter) => void;
  logger: Logger;
  metrics?: RpcMetrics;
  /** Dependencies that must answer for the service to be ready (Postgres, NATS). */
  readiness?: ReadinessChecks;
  /** Peers whose X-Forwarded-For names the client (default: none, the TCP peer is the client). */
  trustedProxies?: TrustedProxies;
  /** Largest request body (a unary call's, each message of a stream); default 4 MiB. */
  maxRequestBytes?: number;
  /** Streams one HTTP/2 connection may have open at once (default 100). */
  maxConcurrentStreams?: number;
  /** Time for a connection's first bytes and a request's headers (default 10 s). */
  headersTimeoutMs?: number;
  /** Time for a unary call's whole body, or any started message of a stream (default 30 s). */
  bodyTimeoutMs?: number;
  /** Idle HTTP/1.1 keep-alive sockets and HTTP/2 sessions without streams close after this (default 65 s). */
  idleTimeoutMs?: number;
  /**
   * Bytes of request bodies still arriving the server holds at once, over all connections (default
   * 64 × maxRequestBytes); a call that would exceed it is ERROR_SERVICE_UNAVAILABLE (retry later).
   */
  maxBufferedBodyBytes?: number;
  /**
   * Checks a call's credentials before its body is read (Connect's request gate): a refusal is
   * answered in the call's protocol without buffering the body. "public" marks a procedure anyone
   * may call, whose requests are then held to ANONYMOUS_MAX_REQUEST_BYTES.
   */
  authenticate?: RequestAuthenticator;
  /** Run inside the observability and error-mapping interceptors (auth goes here). */
  interceptors?: Interceptor[];
  /** Extra plain-HTTP routes tried before the RPC routes (REST APIs, JWKS). */
  http?: HttpHandler;
  /** The most often gRPC health re-probes readiness, when a Check or an open Watch asks (default 5 s); never on its own. */
  readinessProbeMs?: number;
}

export interface RunningServer {
  url: string;
  port: number;
  health: HealthRegistry;
  metrics: RpcMetrics;
  readiness(): Promise<ReadinessReport>;
  /** Graceful stop: NOT_SERVING, no new connections, in-flight calls drain for up to graceMs. */
  close(graceMs?: number): Promise<void>;
}

/** Largest request of a call anyone may make (health, reflection, login): all of theirs are tiny. */
export const ANONYMOUS_MAX_REQUEST_BYTES = 64 * 1024;

/** The JSON dialect of SPEC §2: snake_case out, zero values printed, unknown fields rejected. */
export const jsonOptions = { useProtoFieldName: true, alwaysEmitImplicit: true, ignoreUnknownFields: false } as const;

/**
 * Starts one service on one plaintext port: gRPC (h2c), gRPC-Web and Connect over HTTP/1.1 and
 * HTTP/2, health, reflection, /health/live, /health/ready and /metrics.
 */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { logger } = options;
  const metrics = options.metrics ?? createRpcMetrics(options.name);
  const limits: TransportLimits = {
    maxRequestBytes: options.maxRequestBytes ?? defaultTransportLimits.maxRequestBytes,
    maxConcurrentStreams: options.maxConcurrentStreams ?? defaultTransportLimits.maxConcurrentStreams,
    headersTimeoutMs: options.headersTimeoutMs ?? defaultTransportLimits.headersTimeoutMs,
    bodyTimeoutMs: options.bodyTimeoutMs ?? defaultTransportLimits.bodyTimeoutMs,
    idleTimeoutMs: options.idleTimeoutMs ?? defaultTransportLimits.idleTimeoutMs,
  };
  const { maxRequestBytes } = limits;
  const shutdown = new AbortController();
  setMaxListeners(0, shutdown.signal); // every in-flight call listens for shutdown

  const readiness = async () => {
    const report = await checkReadiness(options.readiness ?? {});
    if (!shutdown.signal.aborted) health.setAll(report.ready ? ServingStatus.SERVING : ServingStatus.NOT_SERVING);
    return report;
  };
  // gRPC health is refreshed when asked (at most once per probe interval, one probe at a time),
  // not by a timer: seven idle services polling their database every few seconds was most of an
  // idle platform's database traffic.
  const probeMs = options.readinessProbeMs ?? 5000;
  let lastProbeAt = Date.now();
  let probing = false;
  const refreshHealth = () => {
    if (probing || Date.now() - lastProbeAt < probeMs) return;
    probing = true;
    readiness()
      .catch(() => undefined) // checkReadiness reports failures; nothing else to do here
      .finally(() => {
        probing = false;
        lastProbeAt = Date.now();
      });
  };
  const health = new HealthRegistry(refreshHealth, probeMs);
  for (const service of options.services) health.set(service.typeName, ServingStatus.SERVING);

  const rpc = createRpcAdapter({
    routes(router) {
      health.register(router);
      const served = [...options.services, Health, ServerReflection, ServerReflectionV1alpha];
      registerReflection(router, new DescriptorIndex(served, [file_google_rpc_error_details]));
      options.routes(router);
    },
    interceptors: [
      // Outermost when tracing is on, so the "rpc" log line and the error mapping run inside the call's span.
      ...serverTracing(),
      observabilityInterceptor(logger, metrics),
      errorMappingInterceptor(options.domain, logger),
      ...(options.interceptors ?? []),
    ],
    jsonOptions,
    contextValues: peerContextValues(options.trustedProxies),
    readMaxBytes: maxRequestBytes,
    shutdownSignal: shutdown.signal,
    domain: options.domain,
    logger,
    maxRequestBytes,
    bodyTimeoutMs: limits.bodyTimeoutMs,
    maxBufferedBodyBytes: options.maxBufferedBodyBytes,
    // Runs before a byte of the body is read, in every protocol: a refused call costs no buffering.
    async requestGate(ctx) {
      const state = ctx.values.get(transportStateKey);
      const length = Number(ctx.requestHeader.get("content-length") ?? 0);
      if (options.authenticate) {
        const access = await authenticateCall(ctx, options.authenticate);
        if (access === "public" && state) state.maxBytes = Math.min(maxRequestBytes, ANONYMOUS_MAX_REQUEST_BYTES);
      }
      const limit = state?.maxBytes ?? maxRequestBytes;
      // Refuse an oversized body before reading it, with the taxonomy's code.
      if (length > limit) {
        if (state) state.status = 413;
        throw toConnectError(payloadTooLarge(`request body of ${length} bytes exceeds the limit of ${limit} bytes`, { limit }), options.domain, requestIdOf(ctx));
      }
    },
  });

  /** The gate's refusal, logged and counted as the observability interceptor does for a call. */
  const authenticateCall = async (ctx: HandlerContext, authenticate: RequestAuthenticator) => {
    const started = process.hrtime.bigint();
    try {
      return await authenticate(ctx);
    } catch (err) {
      const requestId = requestIdOf(ctx);
      const error = err instanceof PlatformError ? toConnectError(err, options.domain, requestId) : toTaxonomyError(err, options.domain, requestId, logger);
      error.metadata.set("x-request-id", requestId);
      const method = `${ctx.service.typeName}/${ctx.method.name}`;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const code = codeName(error.code);
      metrics.record(method, code, seconds);
      logger.warn({ request_id: requestId, method, code, duration_ms: Math.round(seconds * 1e5) / 100, error: error.rawMessage }, "rpc failed");
      throw error;
    }
  };

  const operational = operationalEndpoints(metrics.registry, readiness);
  const listener: RequestListener = (req, res) => {
    // The hot path: a target that is exactly a served procedure ("/pkg.Service/Method", no query) is
    // a valid path that no operational endpoint answers, so without extra HTTP routes it goes to the
    // RPC adapter at once, without parsing it as a URL or awaiting anything first.
    if (!options.http && rpc.serves(req.url)) {
      try {
        if (rpc(req, res)) return;
      } catch (err) {
        return failed(err, req, res);
      }
    }
    void (async () => {
      try {
        // A target no URL parser takes ("//[", "/%E0%A4%A") is the client's mistake: 400, never a throw.
        if (!rpc.serves(req.url)) {
          const problem = requestTargetProblem(req.url);
          if (problem) return sendTaxonomyError(res, invalidParameter(problem), options.domain);
          if (await operational(req, res)) return;
        }
        if (options.http && (await options.http(req, res))) return;
        if (rpc(req, res)) return;
        sendJson(res, 404, { error: "not found" });
      } catch (err) {
        failed(err, req, res);
      }
    })();
  };
  const failed = (err: unknown, req: Parameters<RequestListener>[0], res: Parameters<RequestListener>[1]) => {
    logger.error({ err, url: req.url }, "http handler failed");
    try {
      if (!res.headersSent) sendTaxonomyError(res, new PlatformError(ErrorCode.UNKNOWN, "internal error"), options.domain);
      else res.destroy();
    } catch {
      res.destroy();
    }
  };

  const server = await listenPlaintext(options.host, options.port, listener, {
    maxConcurrentStreams: limits.maxConcurrentStreams,
    headersTimeoutMs: limits.headersTimeoutMs,
    idleTimeoutMs: limits.idleTimeoutMs,
    rejectBody: (error) => ({ contentType: "application/json", body: taxonomyErrorBody(error, options.domain) }),
    // A broken HTTP/2 session is the client's business (debug: a hostile client must not flood the
    // logs); the listening socket failing (EMFILE) is ours.
    onError: (err, where) => (where === "listening socket" ? logger.error({ err, where }, "transport error") : logger.debug({ err, where }, "transport error")),
  });
  void readiness();
  const displayHost = options.host === "0.0.0.0" || options.host === "::" ? "127.0.0.1" : options.host;
  const url = `http://${displayHost}:${server.address.port}`;
  logger.info({ url, services: options.services.map((s) => s.typeName) }, "listening");

  return {
    url,
    port: server.address.port,
    health,
    metrics,
    readiness,
    async close(graceMs = 8000) {
      health.setAll(ServingStatus.NOT_SERVING);
      shutdown.abort();
      await server.close(graceMs);
      logger.info("server closed");
    },
  };
}

const validRequestId = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's x-request-id when sane, else a new one (the observability interceptor has not run yet). */
function requestIdOf(ctx: Pick<HandlerContext, "requestHeader">): string {
  const offered = ctx.requestHeader.get("x-request-id");
  return offered && validRequestId.test(offered) ? offered : randomUUID();
}
