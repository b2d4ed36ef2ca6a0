import type { DatabaseExecutor } from "@cloudforet/db";
import { enqueueEvent, eventSubject } from "@cloudforet/events";
import { outbox } from "./schema";

/**
 * Records `cloudforet.identity.<entity>.<event>` in the outbox, inside the transaction that makes
 * the change; the repository kicks the relay after the commit.
 */
export async function emitEvent(tx: DatabaseExecutor, entity: string, event: string, domainId: string, data: Record<string, unknown>): Promise<void> {
  await enqueueEvent(tx, outbox, { subject: eventSubject("identity", entity, event), domainId, data });
}
