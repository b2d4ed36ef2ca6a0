import type { DatabaseExecutor } from "@cloudforet/db";
import { createEvent, encodeEvent, type NewEvent, type PlatformEvent } from "./event";
import type { OutboxTable } from "./outbox-table";

/**
 * Writes events to the outbox. Pass the transaction that makes the change they describe, so the
 * change and its events commit or roll back together; then `relay.kick()` after the commit.
 */
export async function enqueueEvents(
  tx: DatabaseExecutor,
  outbox: OutboxTable,
  events: NewEvent[],
): Promise<PlatformEvent[]> {
  const complete = events.map((input) => {
    const event = createEvent(input);
    encodeEvent(event); // fail here, not in the relay, when data is not JSON
    return event;
  });
  if (complete.length > 0) {
    await tx.insert(outbox).values(complete.map((event) => ({ id: event.id, subject: event.subject, payload: event })));
  }
  return complete;
}

/** `enqueueEvents` for one event; returns it with its id and timestamp filled in. */
export async function enqueueEvent<TData>(
  tx: DatabaseExecutor,
  outbox: OutboxTable,
  event: NewEvent<TData>,
): Promise<PlatformEvent<TData>> {
  const [stored] = await enqueueEvents(tx, outbox, [event]);
  return stored as PlatformEvent<TData>;
}
