import { randomUUID } from "node:crypto";
import { and, asc, eq, inArray, isNull, lt, lte, or, sql } from "drizzle-orm";
import { type Database, type DatabaseExecutor } from "@cloudforet/db";
import { channels, deliveries, deliveryQueue, endpointBreakers, notifications, type ChannelRow, type DeliveryStatus, type NotificationRow, type QueueRow } from "../db/schema";
import type { EndpointBreakers } from "./endpoint-breakers";

/** The NOTIFY channel new deliveries are announced on (the database is the service's own). */
export const DELIVERY_QUEUE_CHANNEL = "cloudforet_notification.delivery_queue";

/** A channel a new notification goes to. */
export interface QueuedDelivery {
  channelId: string;
  endpointKey: string;
}

export interface ClaimOptions {
  /** Most rows to take. */
  limit: number;
  /** Deliveries in flight per endpoint over every replica (leased rows count). */
  endpointLimit: number;
  /** How long the claim holds the rows before another worker may take them. */
  leaseMs: number;
}

/** A claimed row; `probe` when it is its endpoint's one half-open probe. */
export type ClaimedRow = QueueRow & { leaseToken: string; probe: boolean };

export interface ClaimResult {
  rows: ClaimedRow[];
  /** Due rows were left because their endpoints were full: other replicas' attempts free them, not a wake-up here. */
  blocked: boolean;
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
 * FOR UPDATE SKIP LOCKED under a lease and a fresh lease token, so replicas never take the same row,
 * a crashed worker's rows come back once their lease ends, and a worker that lost its lease can
 * neither send (`holdLease`) nor record (`recordAttempt`) any more.
 */
export class DeliveryQueue {
  constructor(
    private readonly db: Database,
    private readonly breakers: EndpointBreakers,
  ) {}

  /**
   * Queues a notification's deliveries; call inside the transaction that stores the notification.
   * Its commit NOTIFYs DELIVERY_QUEUE_CHANNEL, waking every replica's worker.
   */
  static async enqueue(tx: DatabaseExecutor, notification: { notificationId: string; domainId: string }, items: QueuedDelivery[]): Promise<void> {
    if (items.length === 0) return;
    const rows = items.map((item) => ({
      queue_id: randomUUID(),
      notification_id: notification.notificationId,
      domain_id: notification.domainId,
      channel_id: item.channelId,
      endpoint_key: item.endpointKey,
    }));
    // The rows and their announcement in one round trip (the NOTIFY still goes out at commit).
    await tx.execute(
      sql`with queued as (
            insert into ${deliveryQueue} (queue_id, notification_id, domain_id, channel_id, endpoint_key)
            select q.queue_id, q.notification_id, q.domain_id, q.channel_id, q.endpoint_key
            from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as q(queue_id uuid, notification_id text, domain_id text, channel_id text, endpoint_key text)
          )
          select pg_notify(${DELIVERY_QUEUE_CHANNEL}, '')`,
    );
  }

  /** Records attempts that never happen (unmatched Send entries): SKIPPED, attempt 1. */
  static async recordSkipped(tx: DatabaseExecutor, notificationId: string, entries: { channel: string; error: string }[]): Promise<void> {
    if (entries.length === 0) return;
    await tx.insert(deliveries).values(entries.map((e) => ({ notificationId, channel: e.channel, status: "SKIPPED" as const, attempt: 1, error: e.error })));
  }

  /**
   * Takes due rows, at most `limit`, and leases them. Per endpoint, the shared breaker decides
   * (`EndpointBreakers.admit`, under its row lock): a closed one gets its free in-flight slots over
   * every replica, an open one nothing (its rows are not even read), and a due probe goes to one
   * claimer only.
   */
  async claimDue(options: ClaimOptions): Promise<ClaimResult> {
    if (options.limit <= 0) return { rows: [], blocked: false };
    return this.db.transaction(async (tx) => {
      const candidates = await tx
        .select()
        .from(deliveryQueue)
        .where(
          and(
            eq(deliveryQueue.state, "PENDING"),
            lte(deliveryQueue.nextAttemptAt, sql`now()`),
            or(isNull(deliveryQueue.leasedUntil), lt(deliveryQueue.leasedUntil, sql`now()`)),
            sql`not exists (select 1 from ${endpointBreakers} b where b.endpoint_key = ${deliveryQueue.endpointKey} and b.state <> 'closed' and b.next_probe_at > now())`,
          ),
        )
        .orderBy(asc(deliveryQueue.nextAttemptAt))
        .limit(options.limit * 4)
        .for("update", { skipLocked: true });
      if (candidates.length === 0) return { rows: [], blocked: false };
      const admissions = await this.breakers.admit(
        tx,
        candidates.map((row) => row.endpointKey),
        options.endpointLimit,
        options.leaseMs,
      );
      const slots = new Map([...admissions].map(([key, admission]) => [key, admission.slots]));
      const chosen: QueueRow[] = [];
      for (const row of candidates) {
        if (chosen.length >= options.limit) break;
        const free = slots.get(row.endpointKey) ?? 0;
        if (free <= 0) continue;
        slots.set(row.endpointKey, free - 1);
        chosen.push(row);
      }
      if (chosen.length === 0) return { rows: [], blocked: true };
      const leased = await tx
        .update(deliveryQueue)
        .set({ leasedUntil: sql`now() + ${options.leaseMs}::double precision * interval '1 millisecond'`, leaseToken: sql`gen_random_uuid()` })
        .where(inArray(deliveryQueue.queueId, chosen.map((row) => row.queueId)))
        .returning();
      const rows = leased
        .sort((a, b) => a.nextAttemptAt.getTime() - b.nextAttemptAt.getTime())
        .map((row) => ({ ...row, leaseToken: row.leaseToken!, probe: admissions.get(row.endpointKey)?.probe ?? false }));
      return { rows, blocked: chosen.length < candidates.length && chosen.length < options.limit };
    });
  }

  /**
   * Confirms the worker still holds the row (its token, lease unexpired) and extends the lease.
   * Called right before sending and periodically while the attempt runs; false means another worker
   * may own the row now, so this one must not send.
   */
  async holdLease(row: ClaimedRow, leaseMs: number): Promise<boolean> {
    const held = await this.db
      .update(deliveryQueue)
      .set({ leasedUntil: sql`now() + ${leaseMs}::double precision * interval '1 millisecond'` })
      .where(
        and(
          eq(deliveryQueue.queueId, row.queueId),
          eq(deliveryQueue.leaseToken, row.leaseToken),
          eq(deliveryQueue.state, "PENDING"),
          sql`${deliveryQueue.leasedUntil} > now()`,
        ),
      )
      .returning({ queueId: deliveryQueue.queueId });
    return held.length > 0;
  }

  /** The notification and channel a claimed row delivers (the channel is gone if it was deleted). */
  async loadWork(row: QueueRow): Promise<{ notification?: NotificationRow; channel?: ChannelRow }> {
    const [[notification], [channel]] = await Promise.all([
      this.db.select().from(notifications).where(eq(notifications.notificationId, row.notificationId)),
      this.db.select().from(channels).where(and(eq(channels.channelId, row.channelId), eq(channels.domainId, row.domainId))),
    ]);
    return { notification, channel };
  }

  /**
   * Writes the attempt's record and moves the row on (done, failed for good, or due again later),
   * only while the worker's lease token is still the row's: false when the lease was lost (another
   * worker claimed the row since), and then nothing is written.
   */
  async recordAttempt(row: ClaimedRow, attempt: number, outcome: AttemptOutcome): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const retry = outcome.retryInMs !== undefined;
      const moved = await tx
        .update(deliveryQueue)
        .set({
          attempts: attempt,
          state: outcome.status === "SUCCEEDED" ? "SUCCEEDED" : retry ? "PENDING" : "FAILED",
          nextAttemptAt: retry ? sql`now() + ${outcome.retryInMs}::double precision * interval '1 millisecond'` : sql`now()`,
          leasedUntil: null,
          leaseToken: null,
          lastError: outcome.error,
          updatedAt: sql`now()`,
        })
        .where(and(eq(deliveryQueue.queueId, row.queueId), eq(deliveryQueue.leaseToken, row.leaseToken)))
        .returning({ queueId: deliveryQueue.queueId });
      if (moved.length === 0) return false;
      await tx.insert(deliveries).values({ notificationId: row.notificationId, channel: row.channelId, status: outcome.status, attempt, error: outcome.error });
      return true;
    });
  }

  /** Lets go of a row without an attempt (the lease was lost before sending): it is due again at once. */
  async release(row: ClaimedRow): Promise<void> {
    await this.db
      .update(deliveryQueue)
      .set({ leasedUntil: null, leaseToken: null })
      .where(and(eq(deliveryQueue.queueId, row.queueId), eq(deliveryQueue.leaseToken, row.leaseToken)));
  }

  /**
   * Milliseconds until the next pending row could be claimed (not before its lease ends or its
   * endpoint's breaker lets a probe through): 0 when one is due now, undefined when none waits.
   */
  async msUntilNextDue(): Promise<number | undefined> {
    const [row] = await this.db
      .select({
        ms: sql<number | null>`extract(epoch from (min(greatest(${deliveryQueue.nextAttemptAt}, coalesce(${deliveryQueue.leasedUntil}, ${deliveryQueue.nextAttemptAt}),
              coalesce((select b.next_probe_at from ${endpointBreakers} b where b.endpoint_key = ${deliveryQueue.endpointKey} and b.state <> 'closed'), ${deliveryQueue.nextAttemptAt}))) - now())) * 1000`.mapWith(
          (v) => (v === null ? null : Number(v)),
        ),
      })
      .from(deliveryQueue)
      .where(eq(deliveryQueue.state, "PENDING"));
    if (!row || row.ms === null) return undefined;
    return Math.max(0, row.ms);
  }
}
