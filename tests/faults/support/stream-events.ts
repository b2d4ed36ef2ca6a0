import { jetstreamManager } from "@nats-io/jetstream";
import { decodeEvent, DEFAULT_STREAM, type PlatformEvent } from "@cloudforet/events";
import { connectTestNats } from "@cloudforet/testing";

/**
 * Every event stored in the platform's stream (by sequence), matching `subjects` (prefixes) when given:
 * what any consumer would be delivered. A duplicate that the broker failed to dedupe shows here as
 * a second message with the same event id.
 */
export async function streamEvents(natsUrl: string, subjects: string[] = [], stream = DEFAULT_STREAM): Promise<PlatformEvent[]> {
  const nc = await connectTestNats(natsUrl);
  try {
    const jsm = await jetstreamManager(nc);
    const { state } = await jsm.streams.info(stream);
    const events: PlatformEvent[] = [];
    for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++) {
      const message = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
      if (!message) continue;
      if (subjects.length > 0 && !subjects.some((s) => message.subject.startsWith(s))) continue;
      events.push(decodeEvent(message.data));
    }
    return events;
  } finally {
    await nc.close();
  }
}

/** How many times each value occurs (e.g. event ids, or the entity ids events carry). */
export function countBy<T>(items: T[], keyOf: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(keyOf(item), (counts.get(keyOf(item)) ?? 0) + 1);
  return counts;
}
