import type { DatabaseExecutor } from "@cloudforet/db";
import { sql, type SQL } from "drizzle-orm";
import { outboxChannel } from "./outbox-channel";
import { createEvent, encodeEvent, type NewEvent, type PlatformEvent } from "./event";
import { eventTracing } from "./event-tracing";
import type { OutboxTable } from "./outbox-table";

/**
 * Writes events to the outbox. Pass the transaction that makes the change they describe, so the
 * change and its events commit or roll back together; then `relay.kick()` after the commit. It
 * also NOTIFYs the outbox's channel in that transaction, so every replica's relay (LISTENing on
 * Postgres) wakes when it commits, even if nobody kicks: relays need no tight poll.
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
  if (complete.length === 0) return complete;
  const write = async (traceparent: string | undefined) => {
    // The row keeps the trace context of the change, so the relay's publish (later, elsewhere) continues its trace.
    if (traceparent) for (const event of complete) event.traceparent = traceparent;
    await tx.execute(insertAndNotify(outbox, complete));
  };
  const tracing = eventTracing();
  await (tracing ? tracing.outboxWrite(complete.map((e) => e.subject), write) : write(undefined));
  return complete;
}

/**
 * The rows and the NOTIFY of the outbox's channel in one statement, so a write pays one round trip
 * for its events, not two. The NOTIFY is delivered when the transaction commits, as before.
 */
function insertAndNotify(outbox: OutboxTable, events: PlatformEvent[]): SQL {
  const rows = sql.join(
    events.map((event) => sql`(${event.id}::uuid, ${event.subject}, ${sql.param(event, outbox.payload)}::jsonb)`),
    sql`, `,
  );
  const columns = sql.join([outbox.id, outbox.subject, outbox.payload].map((column) => sql.identifier(column.name)), sql`, `);
  return sql`with written as (insert into ${outbox} (${columns}) values ${rows}) select pg_notify(${outboxChannel(outbox)}, '')`;
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
