/** Base of the errors this package throws; `cause` carries the underlying driver error. */
export class EventBusError extends Error {
  override name = "EventBusError";
}

/** An event that cannot go on the wire: bad subject, missing id, data that is not JSON. */
export class InvalidEventError extends EventBusError {
  override name = "InvalidEventError";
}

/** The bus could not accept an event (broker unreachable, publish timed out, bus closed). */
export class PublishFailedError extends EventBusError {
  override name = "PublishFailedError";
}
