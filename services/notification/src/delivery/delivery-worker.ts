import type { Logger } from "pino";
import type { ChannelCredentials } from "../channels/channel-credentials";
import type { ChannelSettings } from "../channels/channel-settings";
import type { NotificationRow, QueueRow } from "../db/schema";
import { deliver } from "./deliver";
import { DeliveryFailure, truncateError } from "./delivery-failure";
import type { AttemptOutcome, DeliveryQueue } from "./delivery-queue";
import { endpointOf } from "./endpoint";
import { BreakerOpenError, EndpointBreakers } from "./endpoint-breakers";
import type { OutgoingNotification } from "./message-formats";
import { retryDelayMs } from "./retry-schedule";

interface ClaimPass {
  filledEverySlot: boolean;
  noFreeSlot: boolean;
}

export interface DeliveryWorkerOptions {
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  breakerFailures: number;
  breakerResetMs: number;
  concurrency: number;
  endpointConcurrency: number;
  deliveryTimeoutMs: number;
  pollMs: number;
}

/**
 * Drains the delivery queue: claims due rows (FOR UPDATE SKIP LOCKED, leased), attempts each through
 * its endpoint's circuit breaker with at most `endpointConcurrency` in flight per endpoint, records
 * every attempt, and schedules retries with exponential backoff. Woken right after a Send (and over
 * the bus for other replicas); otherwise it sleeps until the next row is due, at most `pollMs`.
 */
export class DeliveryWorker {
  private readonly breakers: EndpointBreakers;
  private readonly inFlight = new Map<string, number>();
  private readonly running = new Set<Promise<void>>();
  private inFlightTotal = 0;
  private stopped = true;
  private loop?: Promise<void>;
  private wakeUp?: () => void;
  private woken = false;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly queue: DeliveryQueue,
    private readonly credentials: ChannelCredentials,
    private readonly options: DeliveryWorkerOptions,
    private readonly logger: Logger,
  ) {
    this.breakers = new EndpointBreakers({ failureThreshold: options.breakerFailures, resetTimeoutMs: options.breakerResetMs, logger });
  }

  /** Long enough for the slowest attempt; a crashed worker's rows return after it. */
  private get leaseMs(): number {
    return Math.max(60_000, this.options.deliveryTimeoutMs * 3);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
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
    this.wake();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await this.loop;
    await Promise.allSettled([...this.running]);
    this.breakers.shutdown();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      this.woken = false;
      let pass: ClaimPass = { filledEverySlot: false, noFreeSlot: false };
      try {
        pass = await this.claimAndDispatch();
      } catch (err) {
        this.logger.error({ err }, "delivery queue claim failed");
      }
      if (this.stopped) break;
      if (pass.filledEverySlot && !this.woken) continue; // there may be more due rows right now
      // A finished attempt wakes the loop, so with every slot taken there is nothing to poll for.
      if (!this.woken) await this.sleep(pass.noFreeSlot ? this.options.pollMs : await this.nextWait());
    }
  }

  /** Claims as many due rows as there are free slots. */
  private async claimAndDispatch(): Promise<ClaimPass> {
    const free = this.options.concurrency - this.inFlightTotal;
    if (free <= 0) return { filledEverySlot: false, noFreeSlot: true };
    const rows = await this.queue.claimDue({
      limit: free,
      endpointSlots: this.endpointSlots(),
      defaultEndpointSlots: this.options.endpointConcurrency,
      leaseMs: this.leaseMs,
    });
    for (const row of rows) this.dispatch(row);
    return { filledEverySlot: rows.length > 0 && rows.length === free, noFreeSlot: false };
  }

  /** Free slots of the endpoints with attempts in flight. */
  private endpointSlots(): Map<string, number> {
    const slots = new Map<string, number>();
    for (const [key, count] of this.inFlight) slots.set(key, this.options.endpointConcurrency - count);
    return slots;
  }

  private dispatch(row: QueueRow): void {
    this.inFlight.set(row.endpointKey, (this.inFlight.get(row.endpointKey) ?? 0) + 1);
    this.inFlightTotal += 1;
    const task = this.attempt(row)
      .catch((err) => this.logger.error({ err, queue_id: row.queueId }, "delivery attempt could not be recorded"))
      .finally(() => {
        const left = (this.inFlight.get(row.endpointKey) ?? 1) - 1;
        if (left <= 0) this.inFlight.delete(row.endpointKey);
        else this.inFlight.set(row.endpointKey, left);
        this.inFlightTotal -= 1;
        this.running.delete(task);
        this.wake();
      });
    this.running.add(task);
  }

  /** One attempt of one queued delivery, recorded whatever happens. */
  private async attempt(row: QueueRow): Promise<void> {
    const attempt = row.attempts + 1;
    const log = this.logger.child({ notification_id: row.notificationId, channel_id: row.channelId, attempt });
    const { notification, channel } = await this.queue.loadWork(row);
    if (!notification || !channel) {
      await this.queue.recordAttempt(row, attempt, { status: "FAILED", error: notification ? "the channel was deleted" : "the notification no longer exists" });
      return;
    }
    let settings: ChannelSettings;
    try {
      settings = this.credentials.settingsOf(channel);
    } catch (err) {
      // Trying again cannot help until someone re-reads the secret (ChannelService.Test does).
      const error = truncateError(`channel credentials unusable: ${(err as Error).message}; ChannelService.Test re-reads them from the secret`);
      await this.queue.recordAttempt(row, attempt, { status: "FAILED", error });
      log.warn({ error }, "delivery failed for good");
      return;
    }
    let outcome: AttemptOutcome;
    try {
      const endpoint = endpointOf(settings);
      await this.breakers.run(endpoint, () =>
        deliver(settings, outgoing(notification), { timeoutMs: this.options.deliveryTimeoutMs, deliveryKey: `${row.notificationId}/${row.channelId}` }),
      );
      outcome = { status: "SUCCEEDED", error: "" };
    } catch (err) {
      outcome = this.failureOutcome(err, attempt);
    }
    await this.queue.recordAttempt(row, attempt, outcome);
    if (outcome.retryInMs !== undefined) this.wakeAfter(outcome.retryInMs);
    const fields = { status: outcome.status, error: outcome.error || undefined, retry_in_ms: outcome.retryInMs };
    if (outcome.status === "SUCCEEDED") log.debug(fields, "delivered");
    else log.warn(fields, outcome.retryInMs === undefined ? "delivery failed for good" : "delivery attempt failed");
  }

  /**
   * What a failure means: retryable ones (and an open circuit) come back after the backoff (for an
   * open circuit, no sooner than its next probe) until the attempts run out; the last record of a
   * delivery that gives up is FAILED.
   */
  private failureOutcome(err: unknown, attempt: number): AttemptOutcome {
    const last = attempt >= this.options.maxAttempts;
    const backoff = retryDelayMs(attempt, this.options.retryBaseMs, this.options.retryMaxMs);
    if (err instanceof BreakerOpenError) {
      if (last) return { status: "FAILED", error: `${err.message}; gave up after ${attempt} attempts` };
      return { status: "SKIPPED", error: err.message, retryInMs: Math.max(backoff, err.retryAfterMs) };
    }
    const retryable = err instanceof DeliveryFailure ? err.retryable : true;
    const error = truncateError(err instanceof DeliveryFailure ? err.message : `delivery failed: ${(err as Error).message}`);
    if (!retryable || last) return { status: "FAILED", error };
    return { status: "FAILED", error, retryInMs: backoff };
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

  /** Until the next row this worker could take is due (rows of full endpoints wait for a slot, which wakes it). */
  private async nextWait(): Promise<number> {
    try {
      const full = [...this.endpointSlots()].filter(([, free]) => free <= 0).map(([key]) => key);
      const due = await this.queue.msUntilNextDue(full);
      return due === undefined ? this.options.pollMs : Math.min(this.options.pollMs, Math.max(5, due));
    } catch {
      return this.options.pollMs;
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
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
