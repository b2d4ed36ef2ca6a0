import type { Interceptor } from "@connectrpc/connect";
import { setEventTracing } from "@cloudforet/events";
import type { Logger } from "pino";
import { clientTracingInterceptor } from "./client-interceptor";
import { eventTracingWith } from "./event-spans";
import { activeTracer, startTracing, type TracingHandle } from "./sdk";
import { serverTracingInterceptor } from "./server-interceptor";

export { activeTracer, tracingEnabled, type TracingHandle } from "./sdk";
export { serverTracingInterceptor } from "./server-interceptor";
export { clientTracingInterceptor } from "./client-interceptor";
export { eventTracingWith } from "./event-spans";
export { currentTraceparent, withTraceparent } from "./continue-trace";

// The slot @cloudforet/resilience reads its clients' tracing from (see its client-tracing.ts); set
// here by symbol because the runtime does not depend on resilience.
const clientTracingSlot = Symbol.for("cloudforet.resilience.clientTracing");

/**
 * Turns tracing on for this process when OTEL_EXPORTER_OTLP_ENDPOINT is set: starts the SDK and
 * installs the event hooks (outbox, publish, consume) and the service clients' CLIENT spans.
 * Undefined, with nothing installed, when it is not set. `shutdown()` flushes the spans.
 */
export function installTracing(serviceName: string, env: NodeJS.ProcessEnv = process.env, logger?: Logger): TracingHandle | undefined {
  const handle = startTracing(serviceName, env, logger);
  const tracer = activeTracer();
  if (!handle || !tracer) return undefined;
  setEventTracing(eventTracingWith(tracer));
  (globalThis as Record<symbol, unknown>)[clientTracingSlot] = (protocol: "grpc" | "connect_rpc") => clientTracingInterceptor(tracer, protocol);
  return {
    async shutdown() {
      await handle.shutdown();
      if (activeTracer()) return; // another service of the process still traces
      setEventTracing(undefined);
      (globalThis as Record<symbol, unknown>)[clientTracingSlot] = undefined;
    },
  };
}

/** The server's outermost interceptor while tracing is on; none (no cost) otherwise. */
export function serverTracing(): Interceptor[] {
  const tracer = activeTracer();
  return tracer ? [serverTracingInterceptor(tracer)] : [];
}

