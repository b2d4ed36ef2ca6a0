import { createRequire } from "node:module";
import { context, propagation, trace, type Tracer } from "@opentelemetry/api";
import type * as ContextAsyncHooks from "@opentelemetry/context-async-hooks";
import type * as Core from "@opentelemetry/core";
import type * as OtlpProto from "@opentelemetry/exporter-trace-otlp-proto";
import type * as Resources from "@opentelemetry/resources";
import type * as SdkTrace from "@opentelemetry/sdk-trace";
import type { TracerProvider } from "@opentelemetry/sdk-trace";
import type { Logger } from "pino";

// The SDK is loaded only when tracing is on: importing it costs a third of a second of cold start,
// which a service without OTEL_EXPORTER_OTLP_ENDPOINT should not pay.
const require = createRequire(import.meta.url);

/** The tracer every span of this package (and the hooks it installs in events and resilience) comes from. */
const TRACER_NAME = "@cloudforet/runtime";

interface Started {
  provider: TracerProvider;
  tracer: Tracer;
  serviceName: string;
  users: number;
}

let started: Started | undefined;

/**
 * The process's tracer, or undefined when tracing is off. Interceptors and hooks check this once at
 * install time, so a process without OTEL_EXPORTER_OTLP_ENDPOINT pays nothing per call.
 */
export function activeTracer(): Tracer | undefined {
  return started?.tracer;
}

export function tracingEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim()) && env.OTEL_SDK_DISABLED !== "true";
}

export interface TracingHandle {
  /** Exports what is buffered and stops the SDK once the last service of the process released it. */
  shutdown(): Promise<void>;
}

/**
 * Starts the OpenTelemetry SDK when OTEL_EXPORTER_OTLP_ENDPOINT is set: OTLP/HTTP protobuf export
 * through a batch processor, W3C trace context, AsyncLocalStorage context. Returns undefined (and
 * starts nothing) otherwise. The SDK is global state, so one process runs one provider; a process
 * hosting several services (embedded mode) shares it, named after the first one or OTEL_SERVICE_NAME.
 *
 * The URL comes from `env` (a service started in-process may be given its own environment), as the
 * spec reads it; the exporter reads the other OTEL_EXPORTER_OTLP_* variables (headers, timeout).
 */
export function startTracing(serviceName: string, env: NodeJS.ProcessEnv = process.env, logger?: Logger): TracingHandle | undefined {
  if (!tracingEnabled(env)) return undefined;
  if (!started) {
    const { AsyncLocalStorageContextManager } = require("@opentelemetry/context-async-hooks") as typeof ContextAsyncHooks;
    const { W3CTraceContextPropagator } = require("@opentelemetry/core") as typeof Core;
    const { OTLPTraceExporter } = require("@opentelemetry/exporter-trace-otlp-proto") as typeof OtlpProto;
    const { resourceFromAttributes } = require("@opentelemetry/resources") as typeof Resources;
    const { BatchSpanProcessor, TracerProvider } = require("@opentelemetry/sdk-trace") as typeof SdkTrace;
    const resource = resourceFromAttributes({ "service.name": env.OTEL_SERVICE_NAME?.trim() || serviceName });
    const provider = new TracerProvider({
      resource,
      spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: tracesUrl(env) }), scheduledDelayMillis: batchDelay(env) })],
    });
    // Registered globally so code that only knows @opentelemetry/api (drizzle, libraries) joins the trace.
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    trace.setGlobalTracerProvider(provider);
    started = { provider, tracer: provider.getTracer(TRACER_NAME), serviceName, users: 0 };
    logger?.info({ endpoint: env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT }, "tracing on: exporting OTLP traces");
  }
  const current = started;
  current.users += 1;
  let released = false;
  return {
    async shutdown() {
      if (released) return;
      released = true;
      current.users -= 1;
      if (current.users > 0) {
        await current.provider.forceFlush();
        return;
      }
      if (started === current) started = undefined;
      await current.provider.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
}

/** OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as given, else OTEL_EXPORTER_OTLP_ENDPOINT (a base URL) + `/v1/traces`. */
function tracesUrl(env: NodeJS.ProcessEnv): string {
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (traces) return traces;
  return `${env.OTEL_EXPORTER_OTLP_ENDPOINT!.trim().replace(/\/+$/, "")}/v1/traces`;
}

/** OTEL_BSP_SCHEDULE_DELAY as the spec names it (default 5 s); tests set it low. */
function batchDelay(env: NodeJS.ProcessEnv): number {
  const value = Number(env.OTEL_BSP_SCHEDULE_DELAY);
  return Number.isFinite(value) && value > 0 ? value : 5_000;
}
