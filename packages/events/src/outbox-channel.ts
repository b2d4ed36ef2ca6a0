import { createHash } from "node:crypto";
import { getTableConfig } from "drizzle-orm/pg-core";
import { MAX_CHANNEL_BYTES } from "@cloudforet/db";
import type { OutboxTable } from "./outbox-table";

const PREFIX = "cloudforet_outbox.";

/**
 * The NOTIFY channel of one outbox table: `enqueueEvents` notifies it in the writer's transaction
 * and the service's relays LISTEN on it, so a relay wakes on commit instead of polling. One channel
 * per table (per schema), so services sharing a database do not wake each other.
 */
export function outboxChannel(outbox: OutboxTable): string {
  const { schema, name } = getTableConfig(outbox);
  const qualified = schema ? `${schema}.${name}` : name;
  const channel = `${PREFIX}${qualified}`;
  if (Buffer.byteLength(channel) <= MAX_CHANNEL_BYTES) return channel;
  // Too long for Postgres: a digest keeps it unique and short.
  return `${PREFIX}${createHash("sha256").update(qualified).digest("hex").slice(0, 40)}`;
}
