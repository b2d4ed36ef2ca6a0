import { primaryKey, text, timestamp, uuid, type PgSchema } from "drizzle-orm/pg-core";
import { and, eq, lt } from "drizzle-orm";
import type { Database, DatabaseExecutor } from "@cloudforet/db";

/**
 * Which events a consumer has already applied, in the consumer service's schema. Export it from the
 * service's `db/schema.ts` next to the outbox.
 */
export function processedEventsTable(schema: PgSchema) {
  return schema.table(
    "processed_events",
    {
      consumer: text("consumer").notNull(),
      eventId: uuid("event_id").notNull(),
      processedAt: timestamp("processed_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    },
    (table) => [primaryKey({ columns: [table.consumer, table.eventId] })],
  );
}

export type ProcessedEventsTable = ReturnType<typeof processedEventsTable>;

/** The optional dedupe store for idempotent handlers. */
export interface ProcessedEventStore {
  /**
   * Runs `work` unless `consumer` already applied `eventId`. The marker and the work commit in one
   * transaction, so a failed handler leaves no marker and its redelivery runs the work again.
   */
  runOnce<T>(
    consumer: string,
    eventId: string,
    work: (tx: DatabaseExecutor) => Promise<T>,
  ): Promise<{ duplicate: true } | { duplicate: false; result: T }>;
}

/** A ProcessedEventStore over the service's `processed_events` table. */
export class ProcessedEvents implements ProcessedEventStore {
  constructor(
    private readonly db: Database | DatabaseExecutor,
    private readonly table: ProcessedEventsTable,
  ) {}

  async runOnce<T>(consumer: string, eventId: string, work: (tx: DatabaseExecutor) => Promise<T>) {
    const db = this.db as DatabaseExecutor;
    return db.transaction(async (tx) => {
      const claimed = await tx
        .insert(this.table)
        .values({ consumer, eventId })
        .onConflictDoNothing()
        .returning({ eventId: this.table.eventId });
      if (claimed.length === 0) return { duplicate: true as const };
      return { duplicate: false as const, result: await work(tx) };
    });
  }

  /** Forgets markers older than `olderThanMs` (keep them longer than any redelivery can take). */
  async forgetOlderThan(olderThanMs: number, consumer?: string): Promise<number> {
    const db = this.db as DatabaseExecutor;
    const cutoff = new Date(Date.now() - olderThanMs);
    const deleted = await db
      .delete(this.table)
      .where(and(lt(this.table.processedAt, cutoff), consumer ? eq(this.table.consumer, consumer) : undefined))
      .returning({ eventId: this.table.eventId });
    return deleted.length;
  }
}
