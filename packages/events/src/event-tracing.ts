import type { PlatformEvent } from "./event";

/**
 * How events join traces. The runtime installs it when it starts the OpenTelemetry SDK; until then
 * (and in every process without OTEL_EXPORTER_OTLP_ENDPOINT) it is undefined and the outbox and
 * buses do exactly what they did before. This package stays free of OpenTelemetry: it only moves
 * the W3C `traceparent` string around (outbox row → message header → handler).
 */
export interface EventTracing {
  /** Runs the outbox insert in a span and hands it the `traceparent` to store with the events. */
  outboxWrite<T>(subjects: string[], write: (traceparent: string | undefined) => Promise<T>): Promise<T>;
  /**
   * Runs a publish in a PRODUCER span, child of `parent` (the traceparent stored in the outbox row)
   * or of the active span; `send` gets the traceparent to put in the message headers.
   */
  publish<T>(event: PlatformEvent, parent: string | undefined, send: (traceparent: string | undefined) => Promise<T>): Promise<T>;
  /** Runs a handler in a CONSUMER span, child of the message's `traceparent` when it has one. */
  consume<T>(event: PlatformEvent, traceparent: string | undefined, durable: string, handle: () => Promise<T>): Promise<T>;
}

let installed: EventTracing | undefined;

/** Installs (or, with undefined, removes) the process's event tracing. */
export function setEventTracing(tracing: EventTracing | undefined): void {
  installed = tracing;
}

export function eventTracing(): EventTracing | undefined {
  return installed;
}

/** The header (NATS) carrying an event's trace context, as W3C trace context names it. */
export const TRACEPARENT_HEADER = "traceparent";

/** The event without its trace context: what goes in the message body (the header carries the rest). */
export function withoutTraceContext(event: PlatformEvent): PlatformEvent {
  if (event.traceparent === undefined) return event;
  const { traceparent: _, ...rest } = event;
  return rest;
}
