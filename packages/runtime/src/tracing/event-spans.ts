import type { EventTracing, PlatformEvent } from "@cloudforet/events";
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span, type Tracer } from "@opentelemetry/api";

/** Messaging semantic-convention attributes of an event on NATS. */
function messagingAttributes(event: PlatformEvent, operation: "publish" | "process") {
  return {
    "messaging.system": "nats",
    "messaging.operation.type": operation,
    "messaging.destination.name": event.subject,
    "messaging.message.id": event.id,
  };
}

/** The context a `traceparent` string describes (or `fallback` when there is none). */
function contextOf(traceparent: string | undefined, fallback: Context): Context {
  if (!traceparent) return fallback;
  return propagation.extract(ROOT_CONTEXT, { traceparent });
}

function traceparentOf(ctx: Context): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier.traceparent;
}

async function inSpan<T>(span: Span, ctx: Context, work: () => Promise<T>): Promise<T> {
  try {
    return await context.with(ctx, work);
  } catch (err) {
    span.recordException(err as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
    throw err;
  } finally {
    span.end();
  }
}

/**
 * The spans of the event path: the outbox insert (INTERNAL, in the producing request's trace), the
 * relay's publish (PRODUCER, child of the context stored in the row, though it runs later in the
 * relay's loop) and each delivery (CONSUMER, child of the message's `traceparent` header), so one
 * change's trace runs from the RPC through NATS into every consumer's handler.
 */
export function eventTracingWith(tracer: Tracer): EventTracing {
  return {
    outboxWrite(subjects, write) {
      const span = tracer.startSpan("outbox write", {
        kind: SpanKind.INTERNAL,
        attributes: { "messaging.batch.message_count": subjects.length, "messaging.destination.name": [...new Set(subjects)].join(",") },
      });
      const ctx = trace.setSpan(context.active(), span);
      return inSpan(span, ctx, () => write(traceparentOf(ctx)));
    },
    publish(event, parent, send) {
      const span = tracer.startSpan(
        `publish ${event.subject}`,
        { kind: SpanKind.PRODUCER, attributes: messagingAttributes(event, "publish") },
        contextOf(parent, context.active()),
      );
      const ctx = trace.setSpan(contextOf(parent, context.active()), span);
      return inSpan(span, ctx, () => send(traceparentOf(ctx)));
    },
    consume(event, traceparent, durable, handle) {
      // Not the consumer's ambient context: a delivery belongs to the producer's trace, or starts one.
      const parent = contextOf(traceparent, ROOT_CONTEXT);
      const span = tracer.startSpan(
        `process ${event.subject}`,
        { kind: SpanKind.CONSUMER, attributes: { ...messagingAttributes(event, "process"), "messaging.consumer.group.name": durable } },
        parent,
      );
      return inSpan(span, trace.setSpan(parent, span), handle);
    },
  };
}
