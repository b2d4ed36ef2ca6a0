import { randomUUID } from "node:crypto";
import { and, asc, eq, inArray, isNull, lt, lte, notInArray, or, sql } from "drizzle-orm";
import type { Database, DatabaseExecutor } from "@cloudforet/db";
import { channels, deliveries, deliveryQueue, notifications, type ChannelRow, type DeliveryStatus, type NotificationRow, type QueueRow } from "../db/schema";

/** A channel a new notification goes to. */
export interface QueuedDelivery {
  channelId: string;
  endpointKey: string;
}

export interface ClaimOptions {
  /** Most rows to take. */
  limit: number;
  /** Free slots per endpoint; endpoints absent here have `defaultEndpointSlots`. */
  endpointSlots: ReadonlyMap<string, number>;
  defaultEndpointSlots: number;
  /** How long the claim holds the rows before another worker may take them. */
  leaseMs: number;
}

/** How an attempt ended, as the queue records it. */
export interface AttemptOutcome {
  status: Exclude<DeliveryStatus, "PENDING">;
  error: string;
  /** Set to try again after this delay; absent when the delivery is over. */
  retryInMs?: number;
}

/**
 * The durable delivery queue and the delivery records (one per attempt). Rows are claimed with
 * FOR UPDATE SKIP LOCKED under a lease, so replicas never take the same row and a crashed worker's
 * rows come back once their lease ends.
 */
export class DeliveryQueue {
  constructor(private readonly db: Database) {}

  /** Queues a notification's deliveries; call inside the transaction that stores the notification. */
  static async enqueue(tx: DatabaseExecutor, notification: { notificationId: string; domainId: string }, items: QueuedDelivery[]): Promise<void> {
    if (items.length === 0) return;
    await tx.insert(deliveryQueue).values(
      items.map((item) => ({
        queueId: randomUUID(),
        notificationId: notification.notificationId,
        domainId: notification.domainId,
        channelId: item.channelId,
        endpointKey: item.endpointKey,
      })),
    );
  }

  /** Records attempts that never happen (unmatched Send entries): SKIPPED, attempt 1. */
  static async recordSkipped(tx: DatabaseExecutor, notificationId: string, entries: { channel: string; error: string }[]): Promise<void> {
    if (entries.length === 0) return;
    await tx.insert(deliveries).values(entries.map((e) => ({ notificationId, channel: e.channel, status: "SKIPPED" as const, attempt: 1, error: e.error })));
  }

  /**
   * Takes due rows, at most `limit` and at most the free slots of each endpoint, and leases them.
   * Rows of full endpoints are not even read, so a slow endpoint's backlog never crowds out others.
   */
  async claimDue(options: ClaimOptions): Promise<QueueRow[]> {
    if (options.limit <= 0) return [];
    const full = [...options.endpointSlots].filter(([, free]) => free <= 0).map(([key]) => key);
    return this.db.transaction(async (tx) => {
      const candidates = await tx
        .select()
        .from(deliveryQueue)
        .where(
          and(
            eq(deliveryQueue.state, "PENDING"),
            lte(deliveryQueue.nextAttemptAt, sql`now()`),
            or(isNull(deliveryQueue.leasedUntil), lt(deliveryQueue.leasedUntil, sql`now()`)),
            full.length > 0 ? notInArray(deliveryQueue.endpointKey, full) : undefined,
          ),
        )
        .orderBy(asc(deliveryQueue.nextAttemptAt))
        .limit(options.limit * 4)
        .for("update", { skipLocked: true });
      const slots = new Map(options.endpointSlots);
      const chosen: QueueRow[] = [];
      for (const row of candidates) {
        if (chosen.length >= options.limit) break;
        const free = slots.get(row.endpointKey) ?? options.defaultEndpointSlots;
        if (free <= 0) continue;
        slots.set(row.endpointKey, free - 1);
        chosen.push(row);
      }
      if (chosen.length > 0) {
        await tx
          .update(deliveryQueue)
          .set({ leasedUntil: sql`now() + ${options.leaseMs}::double precision * interval '1 millisecond'` })
          .where(inArray(deliveryQueue.queueId, chosen.map((row) => row.queueId)));
      }
      return chosen;
    });
  }

  /** The notification and channel a claimed row delivers (the channel is gone if it was deleted). */
  async loadWork(row: QueueRow): Promise<{ notification?: NotificationRow; channel?: ChannelRow }> {
    const [[notification], [channel]] = await Promise.all([
      this.db.select().from(notifications).where(eq(notifications.notificationId, row.notificationId)),
      this.db.select().from(channels).where(and(eq(channels.channelId, row.channelId), eq(channels.domainId, row.domainId))),
    ]);
    return { notification, channel };
  }

  /** Writes the attempt's record and moves the row on: done, failed for good, or due again later. */
  async recordAttempt(row: QueueRow, attempt: number, outcome: AttemptOutcome): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.insert(deliveries).values({ notificationId: row.notificationId, channel: row.channelId, status: outcome.status, attempt, error: outcome.error });
      const retry = outcome.retryInMs !== undefined;
      await tx
        .update(deliveryQueue)
        .set({
          attempts: attempt,
          state: outcome.status === "SUCCEEDED" ? "SUCCEEDED" : retry ? "PENDING" : "FAILED",
          nextAttemptAt: retry ? sql`now() + ${outcome.retryInMs}::double precision * interval '1 millisecond'` : sql`now()`,
          leasedUntil: null,
          lastError: outcome.error,
          updatedAt: sql`now()`,
        })
        .where(eq(deliveryQueue.queueId, row.queueId));
    });
  }

  /** Milliseconds until the next pending row (of the other endpoints) is due: 0 when one is due now, undefined when none waits. */
  async msUntilNextDue(excludeEndpoints: string[] = []): Promise<number | undefined> {
    const [row] = await this.db
      .select({
        ms: sql<number | null>`extract(epoch from (min(greatest(${deliveryQueue.nextAttemptAt}, coalesce(${deliveryQueue.leasedUntil}, ${deliveryQueue.nextAttemptAt}))) - now())) * 1000`.mapWith(
          (v) => (v === null ? null : Number(v)),
        ),
      })
      .from(deliveryQueue)
      .where(and(eq(deliveryQueue.state, "PENDING"), excludeEndpoints.length > 0 ? notInArray(deliveryQueue.endpointKey, excludeEndpoints) : undefined));
    if (!row || row.ms === null) return undefined;
    return Math.max(0, row.ms);
  }
}
