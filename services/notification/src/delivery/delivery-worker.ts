import type { ChannelSubscription, Notifications } from "@cloudforet/db";
import type { OutboundPolicy } from "@cloudforet/outbound";
import type { Logger } from "pino";
import type { ChannelCredentials } from "../channels/channel-credentials";
import type { ChannelSettings } from "../channels/channel-settings";
import type { NotificationRow } from "../db/schema";
import { deliver } from "./deliver";
import { DeliveryFailure, truncateError } from "./delivery-failure";
import { DELIVERY_QUEUE_CHANNEL, type AttemptOutcome, type ClaimedRow, type DeliveryQueue } from "./delivery-queue";
import { endpointOf, type Endpoint } from "./endpoint";
import type { EndpointBreakers } from "./endpoint-breakers";
import type { OutgoingNotification } from "./message-formats";
import { retryDelayMs } from "./retry-schedule";

interface ClaimPass {
  filledEverySlot: boolean;
  noFreeSlot: boolean;
  /** Due rows waited for endpoints other replicas keep full. */
  blocked: boolean;
}

export interface DeliveryWorkerOptions {
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  concurrency: number;
  endpointConcurrency: number;
  deliveryTimeoutMs: number;
  /** Longest sleep without a wake-up while no NOTIFY can wake the worker, or rows wait for a busy endpoint. */
  pollMs: number;
  /** Longest idle sleep while LISTENing for new deliveries (default 30 s). */
  idlePollMs?: number;
  /** Where to LISTEN for DELIVERY_QUEUE_CHANNEL (`notificationsOf(db)`); none (PGlite): poll every `pollMs`. */
  notifications?: Notifications;
  /** How long a claim holds a row; renewed while its attempt runs (NOTIFICATION_DELIVERY_LEASE_MS). */
  leaseMs: number;
  /** What deliveries may connect to (CLOUDFORET_OUTBOUND_*). */
  outbound: OutboundPolicy;
}

/**
 * Drains the delivery queue: claims due rows (FOR UPDATE SKIP LOCKED, leased), which the shared
 * endpoint breakers admit with at most `endpointConcurrency` in flight per endpoint over every
 * replica; sends each only while it still holds the row's lease, records every real attempt, counts
 * it on the breaker and schedules retries with exponential backoff. Woken right after a Send (and
 * over the bus and by Postgres NOTIFY for every replica); otherwise it sleeps until the next row is
 * due (a retry, an expired lease, a breaker's probe), at most `idlePollMs` while it LISTENs and
 * `pollMs` when it cannot.
 */
export class DeliveryWorker {
  private readonly running = new Set<Promise<void>>();
  private inFlightTotal = 0;
  private stopped = true;
  private loop?: Promise<void>;
  private wakeUp?: () => void;
  private woken = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  private subscription: ChannelSubscription | undefined;

  constructor(
    private readonly queue: DeliveryQueue,
    private readonly breakers: EndpointBreakers,
    private readonly credentials: ChannelCredentials,
    private readonly options: DeliveryWorkerOptions,
    private readonly logger: Logger,
  ) {}

  private get leaseMs(): number {
    return this.options.leaseMs;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.subscription = this.options.notifications?.listen(DELIVERY_QUEUE_CHANNEL, {
      onNotify: () => this.wake(),
      // Deliveries queued while LISTEN was not in place were not announced: look now.
      onListening: () => this.wake(),
      // A long idle sleep is only safe while a NOTIFY can cut it short: a pass, then short sleeps.
      onLost: () => this.wake(),
    });
    this.loop = this.run();
  }

  /** Looks for due work now instead of at the next poll. */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  /** Stops claiming and waits for attempts in flight (they are bounded by the delivery timeout). */
  async close(): Promise<void> {
    this.stopped = true;
    await this.subscription?.close();
    this.subscription = undefined;
    this.wake();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await this.loop;
    await Promise.allSettled([...this.running]);
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      this.woken = false;
      let pass: ClaimPass = { filledEverySlot: false, noFreeSlot: false, blocked: false };
      try {
        pass = await this.claimAndDispatch();
      } catch (err) {
        this.logger.error({ err }, "delivery queue claim failed");
      }
      if (this.stopped) break;
      if (pass.filledEverySlot && !this.woken) continue; // there may be more due rows right now
      // A finished attempt wakes the loop, so with every slot taken there is nothing to poll for.
      // Slots other replicas hold free without a wake-up here, so a blocked pass waits a poll.
      if (!this.woken) await this.sleep(pass.noFreeSlot || pass.blocked ? this.options.pollMs : await this.nextWait());
    }
  }

  /** Claims as many due rows as there are free slots. */
  private async claimAndDispatch(): Promise<ClaimPass> {
    const free = this.options.concurrency - this.inFlightTotal;
    if (free <= 0) return { filledEverySlot: false, noFreeSlot: true, blocked: false };
    const { rows, blocked } = await this.queue.claimDue({ limit: free, endpointLimit: this.options.endpointConcurrency, leaseMs: this.leaseMs });
    for (const row of rows) this.dispatch(row);
    return { filledEverySlot: rows.length > 0 && rows.length === free, noFreeSlot: false, blocked: blocked && rows.length === 0 };
  }

  private dispatch(row: ClaimedRow): void {
    this.inFlightTotal += 1;
    const task = this.attempt(row)
      .catch((err) => this.logger.error({ err, queue_id: row.queueId }, "delivery attempt could not be recorded"))
      .finally(() => {
        this.inFlightTotal -= 1;
        this.running.delete(task);
        this.wake();
      });
    this.running.add(task);
  }

  /** One attempt of one queued delivery, recorded whatever happens (unless the lease was lost). */
  private async attempt(row: ClaimedRow): Promise<void> {
    const attempt = row.attempts + 1;
    const log = this.logger.child({ notification_id: row.notificationId, channel_id: row.channelId, attempt });
    const { notification, channel } = await this.queue.loadWork(row);
    if (!notification || !channel) {
      if (row.probe) await this.breakers.releaseProbe(row.endpointKey);
      await this.record(row, attempt, { status: "FAILED", error: notification ? "the channel was deleted" : "the notification no longer exists" }, log);
      return;
    }
    let settings: ChannelSettings;
    let endpoint: Endpoint;
    try {
      settings = this.credentials.settingsOf(channel);
      endpoint = endpointOf(settings);
    } catch (err) {
      // Trying again cannot help until someone re-reads the secret (ChannelService.Test does).
      const error = truncateError(`channel credentials unusable: ${(err as Error).message}; ChannelService.Test re-reads them from the secret`);
      if (row.probe) await this.breakers.releaseProbe(row.endpointKey);
      if (await this.record(row, attempt, { status: "FAILED", error }, log)) log.warn({ error }, "delivery failed for good");
      return;
    }
    // The fence: a worker that stalled past its lease must not send, since another may own the row now.
    if (!(await this.queue.holdLease(row, this.leaseMs))) {
      log.warn({ queue_id: row.queueId }, "delivery lease lost before sending: not sent");
      if (row.probe) await this.breakers.releaseProbe(row.endpointKey);
      return;
    }
    let outcome: AttemptOutcome & { countsAgainstEndpoint?: boolean };
    const heartbeat = this.renewWhileRunning(row, log);
    try {
      await deliver(settings, outgoing(notification), { timeoutMs: this.options.deliveryTimeoutMs, deliveryKey: `${row.notificationId}/${row.channelId}`, outbound: this.options.outbound });
      outcome = { status: "SUCCEEDED", error: "" };
    } catch (err) {
      outcome = this.failureOutcome(err, attempt);
    } finally {
      clearInterval(heartbeat);
    }
    // The endpoint's answer is news for the breaker even when the lease was lost meanwhile.
    await this.breakers
      .record(endpoint, outcome.status === "SUCCEEDED" || !outcome.countsAgainstEndpoint ? "success" : "failure")
      .catch((err) => log.error({ err }, "delivery circuit breaker could not be updated"));
    if (!(await this.record(row, attempt, outcome, log))) return;
    if (outcome.retryInMs !== undefined) this.wakeAfter(outcome.retryInMs);
    const fields = { status: outcome.status, error: outcome.error || undefined, retry_in_ms: outcome.retryInMs };
    if (outcome.status === "SUCCEEDED") log.debug(fields, "delivered");
    else log.warn(fields, outcome.retryInMs === undefined ? "delivery failed for good" : "delivery attempt failed");
  }

  /** Records under the lease token; a result that arrives after the lease was lost is dropped. */
  private async record(row: ClaimedRow, attempt: number, outcome: AttemptOutcome, log: Logger): Promise<boolean> {
    const recorded = await this.queue.recordAttempt(row, attempt, { status: outcome.status, error: outcome.error, retryInMs: outcome.retryInMs });
    if (!recorded) log.warn({ queue_id: row.queueId, status: outcome.status, error: outcome.error || undefined }, "delivery lease lost during the attempt: result discarded");
    return recorded;
  }

  /** Keeps the lease alive while a slow attempt runs, so a live worker's row is never taken over. */
  private renewWhileRunning(row: ClaimedRow, log: Logger): NodeJS.Timeout {
    const timer = setInterval(() => {
      this.queue.holdLease(row, this.leaseMs).then(
        (held) => {
          if (!held) {
            clearInterval(timer);
            log.warn({ queue_id: row.queueId }, "delivery lease lost while sending");
          }
        },
        (err: unknown) => log.warn({ err, queue_id: row.queueId }, "delivery lease could not be renewed"),
      );
    }, Math.max(50, Math.floor(this.leaseMs / 3)));
    timer.unref();
    return timer;
  }

  /**
   * What a failure means: retryable ones come back after the backoff until the attempts run out; the
   * last record of a delivery that gives up is FAILED.
   */
  private failureOutcome(err: unknown, attempt: number): AttemptOutcome & { countsAgainstEndpoint: boolean } {
    const last = attempt >= this.options.maxAttempts;
    const backoff = retryDelayMs(attempt, this.options.retryBaseMs, this.options.retryMaxMs);
    const retryable = err instanceof DeliveryFailure ? err.retryable : true;
    const error = truncateError(err instanceof DeliveryFailure ? err.message : `delivery failed: ${(err as Error).message}`);
    if (!retryable || last) return { status: "FAILED", error, countsAgainstEndpoint: retryable };
    return { status: "FAILED", error, retryInMs: backoff, countsAgainstEndpoint: true };
  }

  private wakeAfter(ms: number): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.wake();
    }, ms + 5);
    timer.unref();
    this.timers.add(timer);
  }

  /** Until the next row could be taken (rows of full endpoints wait for a slot, which wakes it). */
  private async nextWait(): Promise<number> {
    // New rows NOTIFY while LISTEN is in place, so only known rows' due times need a timer.
    const cap = this.subscription?.listening ? Math.max(this.options.idlePollMs ?? 30_000, this.options.pollMs) : this.options.pollMs;
    try {
      const due = await this.queue.msUntilNextDue();
      return due === undefined ? cap : Math.min(cap, Math.max(5, due));
    } catch {
      return this.options.pollMs;
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      // A wake-up that came while the wait was being computed must not be slept through.
      if (this.woken || this.stopped) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = () => {
        this.wakeUp = undefined;
        done();
      };
    });
  }
}

function outgoing(row: NotificationRow): OutgoingNotification {
  return {
    notificationId: row.notificationId,
    title: row.title,
    message: row.message,
    severity: row.severity,
    notificationType: row.notificationType,
    tags: row.tags,
    channels: row.channels,
    recipients: row.recipients,
    domainId: row.domainId,
    workspaceId: row.workspaceId,
    createdAt: row.createdAt,
  };
}
