import { randomUUID } from "node:crypto";
import { InvalidEventError } from "./event-errors";
import { assertEventSubject } from "./subject-pattern";

/**
 * A platform event as it travels: JSON on the wire, `Nats-Msg-Id` = `id`. Subjects read
 * `cloudforet.<service>.<entity>.<event>` (SPEC §9). Consumers must be idempotent: the same `id`
 * can arrive twice, so dedupe on it (see `ProcessedEvents`).
 */
export interface PlatformEvent<TData = unknown> {
  /** A UUID; the broker's dedupe key and the consumer's idempotency key. */
  id: string;
  subject: string;
  /** ISO-8601 timestamp of the change that produced the event. */
  occurredAt: string;
  /** The CloudForet domain (tenant) the event belongs to, when it belongs to one. */
  domainId?: string;
  /** JSON-serializable payload. */
  data: TData;
  /**
   * W3C trace context of the change that produced the event, when tracing is on: stored with the
   * outbox row, sent as the message's `traceparent` header (not in the body), so consumers'
   * spans join the producer's trace.
   */
  traceparent?: string;
}

/** What a producer supplies; `id` and `occurredAt` are filled in when absent. */
export interface NewEvent<TData = unknown> {
  id?: string;
  subject: string;
  occurredAt?: string | Date;
  domainId?: string;
  data: TData;
}

export const SUBJECT_ROOT = "cloudforet";

/** `cloudforet.<service>.<entity>.<event>`, e.g. `eventSubject("inventory", "job", "finished")`. */
export function eventSubject(service: string, entity: string, event: string): string {
  const subject = `${SUBJECT_ROOT}.${service}.${entity}.${event}`;
  assertEventSubject(subject);
  return subject;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A complete, validated event from a producer's input. */
export function createEvent<TData>(input: NewEvent<TData>): PlatformEvent<TData> {
  const event: PlatformEvent<TData> = {
    id: input.id ?? randomUUID(),
    subject: input.subject,
    occurredAt: input.occurredAt instanceof Date ? input.occurredAt.toISOString() : (input.occurredAt ?? new Date().toISOString()),
    ...(input.domainId !== undefined ? { domainId: input.domainId } : {}),
    data: input.data,
  };
  assertValidEvent(event);
  return event;
}

export function assertValidEvent(event: PlatformEvent): void {
  if (typeof event !== "object" || event === null) throw new InvalidEventError("an event must be an object");
  if (typeof event.id !== "string" || !UUID.test(event.id)) {
    throw new InvalidEventError(`event id must be a UUID, got ${JSON.stringify(event.id)}`);
  }
  assertEventSubject(event.subject);
  if (typeof event.occurredAt !== "string" || Number.isNaN(Date.parse(event.occurredAt))) {
    throw new InvalidEventError(`event ${event.id} has no valid occurredAt`);
  }
  if (event.domainId !== undefined && typeof event.domainId !== "string") {
    throw new InvalidEventError(`event ${event.id} has a non-string domainId`);
  }
  if (event.data === undefined) throw new InvalidEventError(`event ${event.id} has no data`);
  if (event.traceparent !== undefined && typeof event.traceparent !== "string") {
    throw new InvalidEventError(`event ${event.id} has a non-string traceparent`);
  }
}

/** The wire form: UTF-8 JSON of the envelope. */
export function encodeEvent(event: PlatformEvent): Uint8Array {
  assertValidEvent(event);
  let json: string;
  try {
    json = JSON.stringify(event);
  } catch (err) {
    throw new InvalidEventError(`event ${event.id} data is not JSON-serializable`, { cause: err });
  }
  return new TextEncoder().encode(json);
}

export function decodeEvent(bytes: Uint8Array): PlatformEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw new InvalidEventError("event payload is not JSON", { cause: err });
  }
  assertValidEvent(parsed as PlatformEvent);
  return parsed as PlatformEvent;
}
