import type { ChannelRow } from "../db/schema";

export interface ChannelMatch {
  /** Channels to deliver to, each once, in the order first named. */
  matched: ChannelRow[];
  /** Entries that named no channel, as written (recorded as SKIPPED deliveries). */
  unmatched: string[];
}

/**
 * Resolves Send's `channels`: each entry is a channel id, a channel name, or a channel type in
 * lower case ("slack": every Slack channel available). No entries means every available channel.
 */
export function matchChannels(entries: string[], available: ChannelRow[]): ChannelMatch {
  if (entries.length === 0) return { matched: [...available], unmatched: [] };
  const matched = new Map<string, ChannelRow>();
  const unmatched: string[] = [];
  for (const entry of entries) {
    const hits = available.filter((c) => c.channelId === entry || c.name === entry || c.channelType.toLowerCase() === entry);
    if (hits.length === 0 && !unmatched.includes(entry)) unmatched.push(entry);
    for (const hit of hits) if (!matched.has(hit.channelId)) matched.set(hit.channelId, hit);
  }
  return { matched: [...matched.values()], unmatched };
}
