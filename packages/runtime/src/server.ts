import { setMaxListeners } from "node:events";
import type { DescService } from "@bufbuild/protobuf";
import type { ConnectRouter, Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { payloadTooLarge, toConnectError } from "@cloudforet/errors";
import type { Logger } from "pino";
import { file_google_rpc_error_details } from "@cloudforet/proto/google/rpc/error_details_pb";
import { Health } from "@cloudforet/proto/grpc/health/v1/health_pb";
import { ServerReflection } from "@cloudforet/proto/grpc/reflection/v1/reflection_pb";
import { ServerReflection as ServerReflectionV1alpha } from "@cloudforet/proto/grpc/reflection/v1alpha/reflection_pb";
import { errorMappingInterceptor } from "./error-mapping";
import { HealthRegistry, ServingStatus } from "./health";
import {
  checkReadiness,
  operationalEndpoints,
  sendJson,
  type HttpHandler,
  type HttpResponse,
  type ReadinessChecks,
  type ReadinessReport,
} from "./http-endpoints";
import { createRpcMetrics, type RpcMetrics } from "./metrics";
import { observabilityInterceptor } from "./observability";
import { listenPlaintext, type RequestListener } from "./plaintext-server";
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
  maxRequestBytes?: number;
  /** Run inside the observability and error-mapping interceptors (auth goes here). */
  interceptors?: Interceptor[];
  /** Extra plain-HTTP routes tried before the RPC routes (REST APIs, JWKS). */
  http?: HttpHandler;
  /** How often readiness is probed to keep gRPC health current. */
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

/** The JSON dialect of SPEC §2: snake_case out, zero values printed, unknown fields rejected. */
export const jsonOptions = { useProtoFieldName: true, alwaysEmitImplicit: true, ignoreUnknownFields: false } as const;

/**
 * Starts one service on one plaintext port: gRPC (h2c), gRPC-Web and Connect over HTTP/1.1 and
 * HTTP/2, health, reflection, /health/live, /health/ready and /metrics.
 */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { logger } = options;
  const metrics = options.metrics ?? createRpcMetrics(options.name);
  const maxRequestBytes = options.maxRequestBytes ?? 4 * 1024 * 1024;
  const health = new HealthRegistry();
  for (const service of options.services) health.set(service.typeName, ServingStatus.SERVING);
  const shutdown = new AbortController();
  setMaxListeners(0, shutdown.signal); // every in-flight call listens for shutdown

  const readiness = async () => {
    const report = await checkReadiness(options.readiness ?? {});
    if (!shutdown.signal.aborted) health.setAll(report.ready ? ServingStatus.SERVING : ServingStatus.NOT_SERVING);
    return report;
  };

  const rpc = connectNodeAdapter({
    routes(router) {
      health.register(router);
      const served = [...options.services, Health, ServerReflection, ServerReflectionV1alpha];
      registerReflection(router, new DescriptorIndex(served, [file_google_rpc_error_details]));
      options.routes(router);
    },
    interceptors: [
      observabilityInterceptor(logger, metrics),
      errorMappingInterceptor(options.domain, logger),
      ...(options.interceptors ?? []),
    ],
    jsonOptions,
    readMaxBytes: maxRequestBytes,
    shutdownSignal: shutdown.signal,
    // Refuse an oversized body before reading it, with the taxonomy's code.
    requestGate(ctx) {
      const length = Number(ctx.requestHeader.get("content-length") ?? 0);
      if (length > maxRequestBytes) {
        throw toConnectError(
          payloadTooLarge(`request body of ${length} bytes exceeds the limit of ${maxRequestBytes} bytes`, {
            limit: maxRequestBytes,
          }),
          options.domain,
        );
      }
    },
    fallback(_req, res) {
      sendJson(res as HttpResponse, 404, { error: "not found" });
    },
  });

  const operational = operationalEndpoints(metrics.registry, readiness);
  const listener: RequestListener = (req, res) => {
    void (async () => {
      try {
        if (await operational(req, res)) return;
        if (options.http && (await options.http(req, res))) return;
        rpc(req, res);
      } catch (err) {
        logger.error({ err, url: req.url }, "http handler failed");
        if (!res.headersSent) sendJson(res, 500, { error: "internal error" });
        else res.end();
      }
    })();
  };

  const server = await listenPlaintext(options.host, options.port, listener);
  const probe = setInterval(() => void readiness(), options.readinessProbeMs ?? 5000);
  probe.unref();
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
      clearInterval(probe);
      health.setAll(ServingStatus.NOT_SERVING);
      shutdown.abort();
      await server.close(graceMs);
      logger.info("server closed");
    },
  };
}
