import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes } from "@opentelemetry/api";
import { activeTracer } from "./sdk";

/**
 * The active span's W3C `traceparent`, to store with work that runs later elsewhere (a job task
 * claimed from a lease loop, a workflow step picked up by the engine); undefined when tracing is off.
 */
export function currentTraceparent(): string | undefined {
  if (!activeTracer()) return undefined;
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}

/**
 * Runs `work` in an INTERNAL span named `name`, child of the stored `traceparent` (a new trace
 * without one), so deferred work joins the trace of the call that asked for it. With tracing off
 * it just runs `work`.
 */
export async function withTraceparent<T>(traceparent: string | null | undefined, name: string, attributes: Attributes, work: () => Promise<T>): Promise<T> {
  const tracer = activeTracer();
  if (!tracer) return work();
  const parent = traceparent ? propagation.extract(ROOT_CONTEXT, { traceparent }) : ROOT_CONTEXT;
  const span = tracer.startSpan(name, { kind: SpanKind.INTERNAL, attributes }, parent);
  try {
    return await context.with(trace.setSpan(parent, span), work);
  } catch (err) {
    span.recordException(err as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
    throw err;
  } finally {
    span.end();
  }
}
