import type { Interceptor } from "@connectrpc/connect";

/** Makes the tracing interceptor of a client speaking `protocol` ("grpc" for gRPC and gRPC-Web). */
export type ClientTracingFactory = (protocol: "grpc" | "connect_rpc") => Interceptor;

// A process-wide slot rather than an import: the runtime fills it when it starts the OpenTelemetry
// SDK, and this package depends on neither the runtime nor OpenTelemetry. Symbol.for keeps one slot
// even if two copies of this module are loaded.
const slot = Symbol.for("cloudforet.resilience.clientTracing");
type Slot = { [slot]?: ClientTracingFactory };

/** Installs (or, with undefined, removes) the tracing every service client made afterwards wraps its calls in. */
export function setClientTracing(factory: ClientTracingFactory | undefined): void {
  (globalThis as Slot)[slot] = factory;
}

/**
 * The client's outermost interceptor: a CLIENT span around each call when tracing is on, else a
 * pass-through (one property read per call). Looked up per call, so a client created before the
 * SDK started (at import time, in a test) is traced too.
 */
export function clientTracing(protocol: "grpc" | "connect_rpc"): Interceptor {
  let traced: { factory: ClientTracingFactory; interceptor: Interceptor } | undefined;
  return (next) => {
    const factory = (globalThis as Slot)[slot];
    if (!factory) return next;
    if (traced?.factory !== factory) traced = { factory, interceptor: factory(protocol) };
    return traced.interceptor(next);
  };
}
