import { and, asc, eq, inArray, ne, sql } from "drizzle-orm";
import type { Database, DatabaseExecutor } from "@cloudforet/db";
import { enqueueEvent, eventSubject } from "@cloudforet/events";
import { col, defineQueryFields, json, listWith, scopeCondition, type QueryInput, type TenantScope } from "@cloudforet/query";
import { deliveries, deliveryQueue, endpointBreakers, notifications, outbox, type DeliveryRow, type NotificationRow } from "../db/schema";
import { DeliveryQueue, type QueuedDelivery } from "../delivery/delivery-queue";

/** What List and its query language can see of a notification. */
export const notificationFields = defineQueryFields(
  {
    notification_id: col(notifications.notificationId),
    title: col(notifications.title),
    message: col(notifications.message),
    severity: col(notifications.severity),
    notification_type: col(notifications.notificationType),
    tags: json(notifications.tags),
    channels: json(notifications.channels),
    recipients: json(notifications.recipients),
    is_read: col(notifications.isRead),
    read_at: col(notifications.readAt),
    domain_id: col(notifications.domainId),
    workspace_id: col(notifications.workspaceId),
    created_at: col(notifications.createdAt),
    updated_at: col(notifications.updatedAt),
  },
  { keywordFields: ["title", "message"], defaultSort: [{ key: "created_at", desc: true }, { key: "notification_id", desc: true }] },
);

export type NewNotification = Omit<NotificationRow, "isRead" | "readAt" | "createdAt" | "updatedAt">;

/** What a scope may read: its workspaces' rows and the whole domain's (workspace_id ""). */
const readable = (scope: TenantScope) => scopeCondition(scope, notifications, { domainWideRows: true });

export class NotificationRepository {
  constructor(private readonly db: Database) {}

  /**
   * Stores a notification with its queued deliveries, the SKIPPED records of entries that matched no
   * channel, and its `created` event (which wakes the delivery workers), all in `tx`.
   */
  static async insert(
    tx: DatabaseExecutor,
    input: NewNotification,
    queued: QueuedDelivery[],
    skipped: { channel: string; error: string }[],
  ): Promise<NotificationRow> {
    const [row] = await tx.insert(notifications).values(input).returning();
    await DeliveryQueue.enqueue(tx, row, queued);
    await DeliveryQueue.recordSkipped(tx, row.notificationId, skipped);
    await enqueueEvent(tx, outbox, {
      subject: eventSubject("notification", "notification", "created"),
      domainId: row.domainId,
      data: { notification_id: row.notificationId, workspace_id: row.workspaceId, severity: row.severity, title: row.title, queued: queued.length },
    });
    return row;
  }

  async get(scope: TenantScope, notificationId: string): Promise<{ row: NotificationRow; deliveries: DeliveryRow[] } | undefined> {
    const [row] = await this.db.select().from(notifications).where(and(readable(scope), eq(notifications.notificationId, notificationId)));
    if (!row) return undefined;
    return { row, deliveries: (await this.deliveriesOf([notificationId])).get(notificationId) ?? [] };
  }

  list(scope: TenantScope, query: QueryInput) {
    return listWith(this.db, notifications, notificationFields, query, readable(scope));
  }

  /**
   * Every delivery record of these notifications, oldest first, followed by one PENDING entry per
   * channel still queued (its next attempt, due at `at`). PENDING entries are not stored: they
   * become the attempt's record once it is made.
   */
  async deliveriesOf(notificationIds: string[]): Promise<Map<string, DeliveryRow[]>> {
    if (notificationIds.length === 0) return new Map();
    // One snapshot: records, queue and breakers read at different moments could show an attempt's
    // record next to the queue row as it was before that attempt.
    return this.db.transaction((tx) => this.deliveriesIn(tx, notificationIds), { isolationLevel: "repeatable read", accessMode: "read only" });
  }

  private async deliveriesIn(tx: DatabaseExecutor, notificationIds: string[]): Promise<Map<string, DeliveryRow[]>> {
    const byId = new Map<string, DeliveryRow[]>();
    const [rows, queued] = await Promise.all([
      tx.select().from(deliveries).where(inArray(deliveries.notificationId, notificationIds)).orderBy(asc(deliveries.sequence)),
      tx
        .select()
        .from(deliveryQueue)
        .where(and(inArray(deliveryQueue.notificationId, notificationIds), eq(deliveryQueue.state, "PENDING")))
        .orderBy(asc(deliveryQueue.createdAt), asc(deliveryQueue.channelId)),
    ]);
    // A row whose endpoint's breaker is open waits for the breaker's probe, not for its own due time.
    const endpointKeys = [...new Set(queued.map((q) => q.endpointKey))];
    const openBreakers = new Map(
      (endpointKeys.length === 0
        ? []
        : await tx.select().from(endpointBreakers).where(and(inArray(endpointBreakers.endpointKey, endpointKeys), ne(endpointBreakers.state, "closed")))
      ).map((b) => [b.endpointKey, b]),
    );
    const pending: DeliveryRow[] = queued.map((q) => {
      const breaker = openBreakers.get(q.endpointKey);
      const waitsForProbe = breaker?.nextProbeAt && breaker.nextProbeAt > q.nextAttemptAt;
      return {
        sequence: 0,
        notificationId: q.notificationId,
        channel: q.channelId,
        status: "PENDING",
        attempt: q.attempts + 1,
        error: breaker ? `circuit breaker ${breaker.state} for ${breaker.label || "the endpoint"}: waiting for its next probe` : "",
        at: waitsForProbe ? breaker.nextProbeAt! : q.nextAttemptAt,
      };
    });
    for (const row of [...rows, ...pending]) {
      const list = byId.get(row.notificationId) ?? [];
      list.push(row);
      byId.set(row.notificationId, list);
    }
    return byId;
  }

  /**
   * Marks the notifications read, all or none: `missing` lists the ids the scope cannot see (and then
   * nothing changes). `updated` counts only those that were unread.
   */
  async markRead(scope: TenantScope, ids: string[]): Promise<{ missing: string[]; updated: number }> {
    return this.db.transaction(async (tx) => {
      const found = await tx
        .select({ id: notifications.notificationId })
        .from(notifications)
        .where(and(readable(scope), inArray(notifications.notificationId, ids)));
      const seen = new Set(found.map((r) => r.id));
      const missing = ids.filter((id) => !seen.has(id));
      if (missing.length > 0) return { missing, updated: 0 };
      const updated = await tx
        .update(notifications)
        .set({ isRead: true, readAt: sql`now()`, updatedAt: sql`now()` })
        .where(and(readable(scope), inArray(notifications.notificationId, ids), eq(notifications.isRead, false)))
        .returning({ id: notifications.notificationId });
      return { missing, updated: updated.length };
    });
  }
}
