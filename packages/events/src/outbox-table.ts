import { sql } from "drizzle-orm";
import { bigint, index, integer, jsonb, text, timestamp, uuid, type PgSchema } from "drizzle-orm/pg-core";
import type { PlatformEvent } from "./event";

/**
 * The transactional outbox of one service, in its own schema: events are inserted in the same
 * transaction as the change they describe and relayed to the bus afterwards (SPEC §9). Export it
 * from the service's `db/schema.ts` so drizzle-kit migrates it with the service's tables.
 */
export function outboxTable(schema: PgSchema) {
  return schema.table(
    "outbox",
    {
      /** The event id: Nats-Msg-Id on the wire, so a row relayed twice reaches consumers once. */
      id: uuid("id").primaryKey(),
      /** Relay order: the order the rows were written. */
      sequence: bigint("sequence", { mode: "number" }).generatedAlwaysAsIdentity(),
      subject: text("subject").notNull(),
      /** The whole event envelope, exactly as it will be published. */
      payload: jsonb("payload").$type<PlatformEvent>().notNull(),
      createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
      publishedAt: timestamp("published_at", { withTimezone: true, mode: "date" }),
      /** Publish attempts, failed ones included. */
      attempts: integer("attempts").notNull().default(0),
      lastError: text("last_error"),
    },
    (table) => [
      index("outbox_unpublished_idx").on(table.sequence).where(sql`published_at is null`),
      index("outbox_published_at_idx").on(table.publishedAt),
    ],
  );
}

export type OutboxTable = ReturnType<typeof outboxTable>;
export type OutboxRow = OutboxTable["$inferSelect"];
