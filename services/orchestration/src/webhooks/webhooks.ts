import { randomUUID } from "node:crypto";
import { and, asc, count, eq, sql } from "drizzle-orm";
import type { Database } from "@cloudforet/db";
import { conflict, invalidParameter, missingParameter, notFound } from "@cloudforet/errors";
import type { OutboundPolicy } from "@cloudforet/outbound";
import type { Logger } from "pino";
import { ownerKey, ownerWhere, requireInScope, type Owner, type OwnerScope } from "../access/tenants";
import { webhookDeliveries, webhookSubscriptions, type InstanceRow, type WebhookDeliveryRow, type WebhookSubscriptionRow } from "../db/schema";
import type { InstanceStateChange } from "../engine/engine-events";
import { isUuid } from "../ids";
import type { Page } from "../instances/repository";
import type { CredentialSealer } from "../recurrent/credential-sealer";

/** The instance events a subscription may ask for: `instance.<state>` for every state an instance enters. */
export const WEBHOOK_EVENT_TYPES = ["instance.scheduled", "instance.running", "instance.waiting", "instance.paused", "instance.completed", "instance.failed", "instance.cancelled"] as const;

export const DELIVERY_STATUSES = ["pending", "delivered", "failed"] as const;

/** How long the subscriptions of a tenant are cached for the engine's hot path (another replica's change is seen this late at most). */
const SUBSCRIPTION_CACHE_MS = 1_000;

export interface WebhookInput {
  url?: unknown;
  eventTypes?: unknown;
  secret?: unknown;
  enabled?: unknown;
  description?: unknown;
}

/** The body every delivery POSTs (the engine's WebhookEvent); built in SQL by migration 0008's trigger function. */
export interface WebhookEvent {
  event_type: string;
  instance_id: string | null;
  timestamp: string;
  data: Record<string, unknown>;
}

/**
 * Outgoing webhooks of a tenant: subscriptions (a URL, the instance events it wants, an optional
 * signing secret sealed at rest) and the durable deliveries each instance event creates; the
 * WebhookDispatcher sends them. Deliveries are written by the database in the statement that
 * changes an instance's state (trigger instances_queue_webhooks, migration 0008), so every change
 * — the engine's, PATCH /state's, retry's, bulk state's — has its deliveries committed with it.
 */
export class Webhooks {
  private readonly cache = new Map<string, { until: number; rows: Promise<WebhookSubscriptionRow[]> }>();
  /** Called when deliveries may have been queued: the dispatcher sends them now rather than at its next poll. */
  queued: () => void = () => {};

  constructor(
    private readonly db: Database,
    private readonly options: { sealer: CredentialSealer; outbound: OutboundPolicy; logger: Logger },
  ) {}

  async create(owner: Owner, input: WebhookInput): Promise<WebhookSubscriptionRow> {
    if (input.url === undefined || input.url === null || input.url === "") throw missingParameter("url");
    const id = randomUUID();
    const secret = secretOf(input.secret);
    const [row] = await this.db
      .insert(webhookSubscriptions)
      .values({
        id,
        domainId: owner.domainId,
        tenantId: owner.tenantId,
        url: this.urlOf(input.url),
        eventTypes: eventTypesOf(input.eventTypes) ?? [],
        sealedSecret: secret ? this.options.sealer.seal({ secret }, boundTo(id)) : null,
        enabled: booleanOf(input.enabled, "enabled") ?? true,
        description: descriptionOf(input.description) ?? null,
      })
      .returning();
    this.cache.delete(ownerKey(owner));
    this.options.logger.info({ webhook_id: id, tenant_id: owner.tenantId, event_types: row.eventTypes }, "webhook subscription created");
    return row;
  }

  async get(scope: OwnerScope, id: string): Promise<WebhookSubscriptionRow> {
    const [row] = isUuid(id) ? await this.db.select().from(webhookSubscriptions).where(eq(webhookSubscriptions.id, id.toLowerCase())) : [];
    return requireInScope(row, scope, "webhook subscription", id);
  }

  async list(scope: OwnerScope, page: Page): Promise<{ results: WebhookSubscriptionRow[]; totalCount: number }> {
    const where = ownerWhere(webhookSubscriptions, scope);
    const [results, [{ total }]] = await Promise.all([
      this.db.select().from(webhookSubscriptions).where(where).orderBy(asc(webhookSubscriptions.createdAt), asc(webhookSubscriptions.id)).offset(page.offset).limit(page.limit),
      this.db.select({ total: count() }).from(webhookSubscriptions).where(where),
    ]);
    return { results, totalCount: Number(total) };
  }

  /** Changes the fields given; `secret: null` removes the signing secret. */
  async update(scope: OwnerScope, id: string, input: WebhookInput): Promise<WebhookSubscriptionRow> {
    const current = await this.get(scope, id);
    const fields: Partial<typeof webhookSubscriptions.$inferInsert> = { updatedAt: new Date() };
    if (input.url !== undefined) fields.url = this.urlOf(input.url);
    const eventTypes = eventTypesOf(input.eventTypes);
    if (eventTypes) fields.eventTypes = eventTypes;
    if (input.secret === null) fields.sealedSecret = null;
    else if (input.secret !== undefined) fields.sealedSecret = this.options.sealer.seal({ secret: secretOf(input.secret)! }, boundTo(current.id));
    const enabled = booleanOf(input.enabled, "enabled");
    if (enabled !== undefined) fields.enabled = enabled;
    if (input.description !== undefined) fields.description = descriptionOf(input.description) ?? null;
    const [row] = await this.db.update(webhookSubscriptions).set(fields).where(eq(webhookSubscriptions.id, current.id)).returning();
    this.cache.delete(ownerKey(current));
    return row;
  }

  /** Deletes the subscription and its deliveries (pending ones are not sent). */
  async delete(scope: OwnerScope, id: string): Promise<void> {
    const current = await this.get(scope, id);
    await this.db.transaction(async (tx) => {
      await tx.delete(webhookDeliveries).where(eq(webhookDeliveries.subscriptionId, current.id));
      await tx.delete(webhookSubscriptions).where(eq(webhookSubscriptions.id, current.id));
    });
    this.cache.delete(ownerKey(current));
  }

  async deliveries(scope: OwnerScope, id: string, status: string | undefined, page: Page): Promise<WebhookDeliveryRow[]> {
    const subscription = await this.get(scope, id);
    if (status !== undefined && !(DELIVERY_STATUSES as readonly string[]).includes(status)) {
      throw invalidParameter(`status must be one of ${DELIVERY_STATUSES.join(", ")}`, { parameter: "status", value: status.slice(0, 64) });
    }
    return this.db
      .select()
      .from(webhookDeliveries)
      .where(and(eq(webhookDeliveries.subscriptionId, subscription.id), status !== undefined ? eq(webhookDeliveries.status, status) : undefined))
      .orderBy(asc(webhookDeliveries.createdAt), asc(webhookDeliveries.id))
      .offset(page.offset)
      .limit(page.limit);
  }

  /** Sends a failed (or delivered) delivery again now, as a new series of attempts. */
  async redeliver(scope: OwnerScope, id: string, deliveryId: string): Promise<WebhookDeliveryRow> {
    const subscription = await this.get(scope, id);
    const [row] = isUuid(deliveryId)
      ? await this.db
          .update(webhookDeliveries)
          .set({ status: "pending", attempts: 0, nextAttemptAt: new Date(), claimedUntil: null, lastError: null, lastStatusCode: null, deliveredAt: null })
          .where(and(eq(webhookDeliveries.id, deliveryId.toLowerCase()), eq(webhookDeliveries.subscriptionId, subscription.id), sql`${webhookDeliveries.status} <> 'pending'`))
          .returning()
      : [];
    if (!row) {
      const [pending] = isUuid(deliveryId) ? await this.db.select().from(webhookDeliveries).where(and(eq(webhookDeliveries.id, deliveryId.toLowerCase()), eq(webhookDeliveries.subscriptionId, subscription.id))) : [];
      if (pending) throw conflict("the delivery is still pending; it is retried on its own", { delivery_id: deliveryId });
      throw notFound("webhook delivery not found", { delivery_id: deliveryId });
    }
    this.queued();
    return row;
  }

  /** The signing secret of a subscription, opened for a delivery (never logged nor returned). */
  secretOf(subscription: WebhookSubscriptionRow): string | undefined {
    return subscription.sealedSecret ? this.options.sealer.open(subscription.sealedSecret, boundTo(subscription.id)).secret : undefined;
  }

  /**
   * The engine changed an instance's state: wakes the dispatcher now when a subscription of the
   * tenant (cached briefly) may want the event, rather than at its next poll. The delivery itself is
   * not queued here: the statement that changed the state inserted it (migration 0008, trigger
   * instances_queue_webhooks), committed with the change whoever made it — the engine, PATCH
   * /state, retry, bulk state. A failure is logged, never thrown into the engine.
   */
  wakeFor(row: InstanceRow, change: InstanceStateChange): void {
    const eventType = `instance.${change.to}`;
    this.subscriptionsOf({ domainId: row.domainId, tenantId: row.tenantId })
      .then((rows) => {
        if (rows.some((s) => s.enabled && (s.eventTypes.length === 0 || s.eventTypes.includes(eventType)))) this.queued();
      })
      .catch((err) => this.options.logger.debug({ err, instance_id: row.id, event_type: eventType }, "could not read webhook subscriptions to wake the dispatcher"));
  }

  private subscriptionsOf(owner: Owner): Promise<WebhookSubscriptionRow[]> {
    const key = ownerKey(owner);
    const cached = this.cache.get(key);
    if (cached && cached.until > Date.now()) return cached.rows;
    // A real promise: drizzle's query builder is a thenable that runs its query again on every
    // `then`, so caching the builder itself would read the table on every state change.
    const rows = Promise.resolve(this.db.select().from(webhookSubscriptions).where(ownerWhere(webhookSubscriptions, owner)));
    this.cache.set(key, { until: Date.now() + SUBSCRIPTION_CACHE_MS, rows });
    rows.catch(() => this.cache.delete(key));
    return rows;
  }

  private urlOf(value: unknown): string {
    if (typeof value !== "string" || value === "") throw invalidParameter("url must be a non-empty string", { parameter: "url" });
    if (value.length > 2048) throw invalidParameter("url must be at most 2048 characters", { parameter: "url" });
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw invalidParameter("url is not a URL", { parameter: "url" });
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") throw invalidParameter("url must be http or https", { parameter: "url" });
    if (url.username || url.password) throw invalidParameter("url must not carry credentials; use secret to sign deliveries", { parameter: "url" });
    this.options.outbound.validateStoredUrl(url, "url");
    return value;
  }
}

const boundTo = (id: string) => `webhook:${id}`;

function eventTypesOf(value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw invalidParameter("event_types must be an array of event names", { parameter: "event_types" });
  value.forEach((type, i) => {
    if (typeof type !== "string" || !(WEBHOOK_EVENT_TYPES as readonly string[]).includes(type)) {
      throw invalidParameter(`event_types[${i}] must be one of ${WEBHOOK_EVENT_TYPES.join(", ")}`, { parameter: `event_types[${i}]` });
    }
  });
  return [...new Set(value as string[])];
}

function secretOf(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string" || value.length < 1 || value.length > 512) throw invalidParameter("secret must be a string of 1 to 512 characters", { parameter: "secret" });
  return value;
}

function booleanOf(value: unknown, parameter: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "boolean") throw invalidParameter(`${parameter} must be a boolean`, { parameter });
  return value;
}

function descriptionOf(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string" || value.length > 1024) throw invalidParameter("description must be a string of at most 1024 characters", { parameter: "description" });
  return value;
}

