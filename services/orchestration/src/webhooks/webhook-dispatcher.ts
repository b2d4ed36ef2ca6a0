import { createHmac } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import { notificationsOf, type ChannelSubscription, type Database, queryRows } from "@cloudforet/db";
import { isOutboundError, outboundRequest, redactUrl, type OutboundPolicy } from "@cloudforet/outbound";
import type { Counter } from "prom-client";
import type { Logger } from "pino";
import { webhookDeliveries, webhookSubscriptions } from "../db/schema";
import { Periodic } from "../engine/periodic";
import { boundPeerText } from "../engine/handlers/peer-text";
import type { Webhooks } from "./webhooks";

/** Attempts of one delivery before it is marked failed. */
export const MAX_WEBHOOK_ATTEMPTS = 6;
/** Deliveries claimed (and sent concurrently) per run. */
const BATCH = 32;
/** How long a claimed delivery is this replica's; a crashed replica's claims are taken over after it. */
const CLAIM_MS = 60_000;
/** Without LISTEN (embedded PGlite, or while it reconnects): how often to look for due deliveries. */
const IDLE_POLL_MS = 1_000;
/** With LISTEN: the longest sleep (a safety net; new deliveries and due retries wake it sooner). */
const MAX_SLEEP_MS = 60_000;
/** The channel the instances trigger (migration 0008) notifies when it queues deliveries. */
export const WEBHOOK_CHANNEL = "orchestration_webhooks";

export interface DispatcherOptions {
  db: Database;
  webhooks: Webhooks;
  outbound: OutboundPolicy;
  sent: Counter;
  failed: Counter;
  logger: Logger;
  /** First retry after this; doubled per attempt up to 5 minutes. Default 1000 ms. */
  backoffMs?: number;
}

type Outcome = { delivered: true; status: number } | { delivered: false; retryable: boolean; status: number | null; error: string };

interface ClaimedDelivery extends Record<string, unknown> {
  id: string;
  subscription_id: string;
  event_type: string;
  payload: Record<string, unknown>;
  attempts: number;
}

/**
 * Sends pending webhook deliveries, in every replica: due rows are claimed with FOR UPDATE SKIP
 * LOCKED (each is sent by one replica at a time), POSTed under the outbound policy with the
 * event's JSON, `X-Orch8-Delivery-Id` (the same on every retry, for receivers to deduplicate),
 * `X-Orch8-Event` and, with a secret, `X-Orch8-Signature: sha256=<HMAC of the body>`. A 2xx/3xx
 * delivers; a 5xx, 408, 429 or a network error retries with exponential backoff up to
 * MAX_WEBHOOK_ATTEMPTS; another 4xx or a refused address fails at once. orch8_webhooks_sent_total
 * counts deliveries made, orch8_webhooks_failed_total deliveries given up.
 */
export class WebhookDispatcher {
  private readonly loop: Periodic;
  private readonly backoffMs: number;
  private busy = false;
  /** Milliseconds until the next pending delivery is due (MAX_SLEEP_MS when none is). */
  private nextDueMs = MAX_SLEEP_MS;
  private subscription: ChannelSubscription | undefined;

  constructor(private readonly options: DispatcherOptions) {
    this.backoffMs = options.backoffMs ?? 1_000;
    this.loop = new Periodic({
      run: () => this.runOnce(),
      // Asleep until a delivery is due or the trigger's NOTIFY says new ones were queued; polling
      // only where there is no LISTEN.
      nextDelayMs: () => (this.busy ? 0 : this.subscription?.listening ? this.nextDueMs : IDLE_POLL_MS),
      logger: options.logger,
      what: "webhook delivery",
    });
  }

  start(): void {
    this.subscription = notificationsOf(this.options.db)?.listen(WEBHOOK_CHANNEL, { onNotify: () => this.wake(), onListening: () => this.wake() });
    this.loop.start();
  }

  wake(): void {
    this.loop.wake();
  }

  async stop(): Promise<void> {
    await this.subscription?.close();
    await this.loop.stop();
  }

  /** Claims and sends one batch of due deliveries; the number sent. */
  async runOnce(): Promise<number> {
    const claimed = await queryRows<ClaimedDelivery>(
      this.options.db,
      sql`update ${webhookDeliveries} d set claimed_until = now() + make_interval(secs => ${CLAIM_MS / 1000})
          from (select id from ${webhookDeliveries}
                where status = 'pending' and next_attempt_at <= now() and (claimed_until is null or claimed_until < now())
                order by next_attempt_at limit ${BATCH} for update skip locked) due
          where d.id = due.id
          returning d.id, d.subscription_id, d.event_type, d.payload, d.attempts`,
    );
    this.busy = claimed.length === BATCH;
    await Promise.all(claimed.map((delivery) => this.deliver(delivery)));
    if (!this.busy) this.nextDueMs = await this.msUntilNextDue();
    return claimed.length;
  }

  /** When the earliest pending delivery (a retry, or another replica's lapsed claim) is due. */
  private async msUntilNextDue(): Promise<number> {
    const [next] = await queryRows<{ ms: number | string | null }>(
      this.options.db,
      sql`select extract(epoch from min(greatest(next_attempt_at, coalesce(claimed_until, next_attempt_at))) - now()) * 1000 as ms
          from ${webhookDeliveries} where status = 'pending'`,
    );
    const ms = next?.ms === null || next?.ms === undefined ? MAX_SLEEP_MS : Number(next.ms);
    return Math.min(MAX_SLEEP_MS, Math.max(0, Math.ceil(ms)));
  }

  private async deliver(delivery: ClaimedDelivery): Promise<void> {
    const { db, logger } = this.options;
    const [subscription] = await db.select().from(webhookSubscriptions).where(eq(webhookSubscriptions.id, delivery.subscription_id));
    if (!subscription || !subscription.enabled) {
      await this.record(delivery, { delivered: false, retryable: false, status: null, error: subscription ? "subscription disabled" : "subscription deleted" });
      return;
    }
    let outcome: Outcome;
    try {
      outcome = await this.send(delivery, subscription.url, this.options.webhooks.secretOf(subscription));
    } catch (err) {
      // A secret that no longer opens (keys rotated away): nothing to retry until it is set again.
      outcome = { delivered: false, retryable: false, status: null, error: `cannot sign: ${(err as Error).message}` };
    }
    await this.record(delivery, outcome);
    const log = { webhook_id: subscription.id, delivery_id: delivery.id, event_type: delivery.event_type, attempt: delivery.attempts + 1, url: redactUrl(subscription.url) };
    if (outcome.delivered) logger.debug({ ...log, status: outcome.status }, "webhook delivered");
    else logger.warn({ ...log, status: outcome.status, reason: outcome.error, retryable: outcome.retryable }, "webhook delivery failed");
  }

  private async send(delivery: ClaimedDelivery, url: string, secret: string | undefined): Promise<Outcome> {
    const body = JSON.stringify(delivery.payload);
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "user-agent": "cloudforet-orchestration-webhooks",
      "x-orch8-delivery-id": delivery.id,
      "x-orch8-event": delivery.event_type,
    };
    if (secret) headers["x-orch8-signature"] = `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
    try {
      const response = await outboundRequest(this.options.outbound, { url, method: "POST", headers, body, discardBody: true });
      if (response.status < 400) return { delivered: true, status: response.status };
      const retryable = response.status >= 500 || response.status === 408 || response.status === 429;
      return { delivered: false, retryable, status: response.status, error: `HTTP ${response.status}` };
    } catch (err) {
      if (!isOutboundError(err)) return { delivered: false, retryable: true, status: null, error: "request failed" };
      return { delivered: false, retryable: err.kind !== "refused" && err.retryable, status: null, error: boundPeerText(err.message, 512) };
    }
  }

  private async record(delivery: ClaimedDelivery, outcome: Outcome): Promise<void> {
    const attempts = delivery.attempts + 1;
    if (outcome.delivered) {
      await this.options.db
        .update(webhookDeliveries)
        .set({ status: "delivered", attempts, deliveredAt: new Date(), lastStatusCode: outcome.status, lastError: null, claimedUntil: null })
        .where(eq(webhookDeliveries.id, delivery.id));
      this.options.sent.inc();
      return;
    }
    const giveUp = !outcome.retryable || attempts >= MAX_WEBHOOK_ATTEMPTS;
    const delay = Math.min(this.backoffMs * 2 ** (attempts - 1), 300_000);
    await this.options.db
      .update(webhookDeliveries)
      .set({
        status: giveUp ? "failed" : "pending",
        attempts,
        lastStatusCode: outcome.status,
        lastError: outcome.error,
        claimedUntil: null,
        ...(giveUp ? {} : { nextAttemptAt: new Date(Date.now() + delay) }),
      })
      .where(eq(webhookDeliveries.id, delivery.id));
    if (giveUp) this.options.failed.inc();
  }
}
