import { and, asc, count, eq, inArray, isNotNull, isNull, lt, sql } from "drizzle-orm";
import { getTableConfig } from "drizzle-orm/pg-core";
import { notificationsOf, type ChannelSubscription, type DatabaseExecutor, type Notifications } from "@cloudforet/db";
import type { Logger } from "pino";
import type { EventBus } from "./event-bus";
import { outboxChannel } from "./outbox-channel";
import type { OutboxTable } from "./outbox-table";

export interface OutboxRelayOptions {
  db: DatabaseExecutor;
  outbox: OutboxTable;
  /** Where events go; when it offers `isConnected()`, passes are skipped while it reports false. */
  bus: Pick<EventBus, "publish"> & Partial<Pick<EventBus, "isConnected">>;
  logger: Logger;
  /** Rows claimed per transaction (default 100). */
  batchSize?: number;
  /** Polling interval when nobody kicks and no NOTIFY can wake the relay (default 1 s). */
  pollIntervalMs?: number;
  /**
   * Where the relay LISTENs for the NOTIFY `enqueueEvents` sends on commit (default: the database's
   * own, `notificationsOf(db)`; none on PGlite). `null`: poll every `pollIntervalMs` only.
   */
  notifications?: Notifications | null;
  /**
   * Polling interval while LISTEN is in place (default 30 s): a safety net only, since every commit
   * that enqueues wakes the relay, and a lost LISTEN connection falls back to `pollIntervalMs`.
   */
  idlePollIntervalMs?: number;
  /** Backoff after a failed pass: doubling from `initialMs` (default 200 ms) up to `maxMs` (default 30 s). */
  retryBackoff?: { initialMs?: number; maxMs?: number };
  /** How long published rows are kept before deletion (default 24 h). */
  retentionMs?: number;
  /** How often published rows past retention are deleted (default 10 min: the retention is a day). */
  cleanupIntervalMs?: number;
}

export interface RelayPassResult {
  published: number;
  /** Rows the bus reported as already seen (a re-publish deduped by Nats-Msg-Id). */
  duplicates: number;
}

/** The last pass failed; the rows it could not publish stay in the outbox. */
export class OutboxPublishError extends Error {
  override name = "OutboxPublishError";
}

/**
 * Moves events from a service's outbox to the bus: claims unpublished rows in write order with
 * `FOR UPDATE SKIP LOCKED` (so replicas share the work), publishes each with its id as
 * Nats-Msg-Id, and marks them published in the same transaction. A failed publish leaves the row
 * for a later pass with backoff; a publish whose mark is lost is deduped by the broker.
 */
export class OutboxRelay {
  private readonly db: DatabaseExecutor;
  private readonly outbox: OutboxTable;
  private readonly bus: OutboxRelayOptions["bus"];
  private readonly log: Logger;
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly idlePollIntervalMs: number;
  private readonly notifications: Notifications | undefined;
  private subscription: ChannelSubscription | undefined;
  private readonly backoffInitialMs: number;
  private readonly backoffMaxMs: number;
  private readonly retentionMs: number;
  private readonly cleanupIntervalMs: number;
  /** "schema.outbox": the relay's name in logs and in the outbox lag metrics. */
  readonly name: string;
  /** Relays between start() and stop(), whose lag the metrics report (packages/runtime/src/metrics.ts). */
  private static readonly started = new Set<OutboxRelay>();

  private running = false;
  private loopDone: Promise<void> = Promise.resolve();
  private wake: (() => void) | undefined;
  /** Brings the current sleep's end forward to at most `withinMs` from now. */
  private hasten: ((withinMs: number) => void) | undefined;
  private kicked = false;
  private consecutiveFailures = 0;
  private lastCleanupAt = 0;
  private passTail: Promise<unknown> = Promise.resolve();

  constructor(options: OutboxRelayOptions) {
    this.db = options.db;
    this.outbox = options.outbox;
    this.bus = options.bus;
    this.batchSize = options.batchSize ?? 100;
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.idlePollIntervalMs = Math.max(options.idlePollIntervalMs ?? 30_000, this.pollIntervalMs);
    this.notifications = options.notifications === null ? undefined : (options.notifications ?? notificationsOf(options.db));
    this.backoffInitialMs = options.retryBackoff?.initialMs ?? 200;
    this.backoffMaxMs = options.retryBackoff?.maxMs ?? 30_000;
    this.retentionMs = options.retentionMs ?? 24 * 3_600_000;
    this.cleanupIntervalMs = options.cleanupIntervalMs ?? 600_000;
    const { schema, name } = getTableConfig(this.outbox);
    this.name = schema ? `${schema}.${name}` : name;
    this.log = options.logger.child({ component: "outbox-relay", outbox: this.name });
  }

  /**
   * Starts relaying in the background: a pass on every kick and every NOTIFY of the outbox's
   * channel, and a poll every `idlePollIntervalMs` while LISTENing (`pollIntervalMs` otherwise).
   */
  start(): void {
    if (this.running) return;
    this.running = true;
    OutboxRelay.started.add(this);
    // Every (re)established LISTEN also kicks: rows committed while it was not in place were not heard.
    this.subscription = this.notifications?.listen(outboxChannel(this.outbox), {
      onNotify: () => this.kick(),
      onListening: () => this.kick(),
      // Sleeping the long idle interval is only safe while a NOTIFY can cut it short.
      onLost: () => this.hasten?.(this.pollIntervalMs),
    });
    this.loopDone = this.loop();
  }

  /** Asks for a pass now (call it after committing a transaction that enqueued events). */
  kick(): void {
    this.kicked = true;
    if (this.consecutiveFailures === 0) this.wake?.();
    // Backing off after a failure: a kick means a write just committed, so the database may be back
    // (the bus may still be down). Try again within a second, not at the end of a long backoff.
    else this.hasten?.(KICKED_RETRY_MS);
  }

  /**
   * Publishes what is pending until the outbox is empty or `timeoutMs` passes (graceful shutdown).
   * Resolves with the rows still unpublished.
   */
  async flush(timeoutMs = 5_000): Promise<{ remaining: number }> {
    const deadline = Date.now() + timeoutMs;
    let failures = 0;
    while (Date.now() < deadline) {
      try {
        await this.publishPending();
        return { remaining: 0 };
      } catch {
        failures += 1;
        await sleep(Math.min(this.backoffDelay(failures), Math.max(deadline - Date.now(), 0)));
      }
    }
    const remaining = await this.countUnpublished();
    if (remaining > 0) this.log.warn({ remaining }, "outbox flush timed out with events unpublished");
    return { remaining };
  }

  /** Stops the background loop after flushing for up to `flushTimeoutMs`. */
  async stop(flushTimeoutMs = 5_000): Promise<{ remaining: number }> {
    this.running = false;
    OutboxRelay.started.delete(this);
    await this.subscription?.close();
    this.subscription = undefined;
    this.wake?.();
    await this.loopDone;
    return this.flush(flushTimeoutMs);
  }

  /** Publishes batches until no unpublished row is left; throws OutboxPublishError if the bus fails. */
  async publishPending(): Promise<RelayPassResult> {
    return this.exclusive(async () => {
      // Known outage: do not claim rows (and hold their locks) only to time out on each publish.
      if (this.bus.isConnected?.() === false) throw new OutboxPublishError("the event bus is disconnected");
      const total: RelayPassResult = { published: 0, duplicates: 0 };
      for (;;) {
        const batch = await this.publishBatch();
        total.published += batch.published;
        total.duplicates += batch.duplicates;
        if (batch.failure) {
          throw new OutboxPublishError(`publishing outbox event ${batch.failure.id} failed`, { cause: batch.failure.err });
        }
        if (batch.claimed < this.batchSize) return total;
      }
    });
  }

  /** Deletes published rows older than the retention. */
  async deleteExpired(): Promise<number> {
    const cutoff = new Date(Date.now() - this.retentionMs);
    const deleted = await this.db
      .delete(this.outbox)
      .where(and(isNotNull(this.outbox.publishedAt), lt(this.outbox.publishedAt, cutoff)))
      .returning({ id: this.outbox.id });
    if (deleted.length > 0) this.log.info({ deleted: deleted.length }, "published outbox rows deleted");
    return deleted.length;
  }

  /** The running relays of this process (for the metrics, which read their lag on scrape). */
  static running(): Iterable<OutboxRelay> {
    return OutboxRelay.started;
  }

  /**
   * Unpublished rows and the age of the oldest, counted over every replica's rows (one statement on
   * the unpublished index). Undefined when the database does not answer within `timeoutMs`: a scrape
   * must not hang or fail because of it (the relay's own warnings report the outage).
   */
  async lag(timeoutMs = 2_000): Promise<{ pending: number; oldestAgeSeconds: number } | undefined> {
    const query = this.db
      .select({
        pending: count(),
        age: sql<string | number | null>`extract(epoch from now() - min(${this.outbox.createdAt}))`,
      })
      .from(this.outbox)
      .where(isNull(this.outbox.publishedAt))
      .then(([row]) => ({ pending: Number(row?.pending ?? 0), oldestAgeSeconds: Math.max(0, Number(row?.age ?? 0)) }));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs)));
    try {
      return await Promise.race([query.catch(() => undefined), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  async countUnpublished(): Promise<number> {
    const [row] = await this.db.select({ n: count() }).from(this.outbox).where(isNull(this.outbox.publishedAt));
    return Number(row?.n ?? 0);
  }

  private async publishBatch() {
    const { outbox } = this;
    return this.db.transaction(async (tx) => {
      const rows = await tx
        .select({ id: outbox.id, payload: outbox.payload, attempts: outbox.attempts })
        .from(outbox)
        .where(isNull(outbox.publishedAt))
        .orderBy(asc(outbox.sequence))
        .limit(this.batchSize)
        .for("update", { skipLocked: true });

      const published: string[] = [];
      let duplicates = 0;
      let failure: { id: string; err: unknown } | undefined;
      for (const row of rows) {
        try {
          const result = await this.bus.publish(row.payload);
          published.push(row.id);
          if (result.duplicate) duplicates += 1;
        } catch (err) {
          // Stop at the first failure so later events do not overtake it.
          failure = { id: row.id, err };
          break;
        }
      }

      if (published.length > 0) {
        await tx
          .update(outbox)
          .set({ publishedAt: sql`now()`, attempts: sql`${outbox.attempts} + 1`, lastError: null })
          .where(inArray(outbox.id, published));
      }
      if (failure) {
        await tx
          .update(outbox)
          .set({ attempts: sql`${outbox.attempts} + 1`, lastError: describe(failure.err).slice(0, 1_000) })
          .where(eq(outbox.id, failure.id));
      }
      if (published.length > 0) {
        this.log.debug({ published: published.length, duplicates }, "outbox events published");
      }
      if (duplicates > 0) {
        this.log.info({ duplicates }, "outbox events were already on the bus (deduplicated by event id)");
      }
      return { claimed: rows.length, published: published.length, duplicates, failure };
    });
  }

  private async loop(): Promise<void> {
    while (this.running) {
      this.kicked = false;
      // Poll rarely only while a NOTIFY can wake us; `listening` is false until LISTEN is in place and after it drops.
      let delay = this.subscription?.listening ? this.idlePollIntervalMs : this.pollIntervalMs;
      try {
        await this.publishPending();
        if (this.consecutiveFailures > 0) {
          this.log.info({ failed_passes: this.consecutiveFailures }, "outbox relay recovered");
        }
        this.consecutiveFailures = 0;
        await this.cleanupIfDue();
      } catch (err) {
        this.consecutiveFailures += 1;
        delay = this.backoffDelay(this.consecutiveFailures);
        this.log.warn(
          { err: describe(err), cause: describe((err as Error).cause), failed_passes: this.consecutiveFailures, retry_in_ms: delay },
          "outbox relay pass failed; events stay in the outbox",
        );
      }
      if (this.running && !(this.kicked && this.consecutiveFailures === 0)) await this.sleepUntilWoken(delay);
    }
  }

  private async cleanupIfDue(): Promise<void> {
    if (Date.now() - this.lastCleanupAt < this.cleanupIntervalMs) return;
    this.lastCleanupAt = Date.now();
    await this.deleteExpired();
  }

  private sleepUntilWoken(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = this.hasten = undefined;
        resolve();
      };
      let wakeAt = Date.now() + ms;
      let timer = setTimeout(done, ms);
      this.wake = done;
      this.hasten = (withinMs) => {
        if (wakeAt - Date.now() <= withinMs) return;
        clearTimeout(timer);
        wakeAt = Date.now() + withinMs;
        timer = setTimeout(done, withinMs);
      };
    });
  }

  private backoffDelay(failures: number): number {
    return Math.min(this.backoffInitialMs * 2 ** Math.min(failures - 1, 20), this.backoffMaxMs);
  }

  /** One pass at a time per relay: the loop, `flush()` and callers never publish concurrently. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.passTail.catch(() => {}).then(work);
    this.passTail = run.catch(() => {});
    return run;
  }
}

/** How soon a kick during a backoff retries (at most one early retry per this interval). */
const KICKED_RETRY_MS = 1_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const describe = (err: unknown): string => (err instanceof Error ? err.message : err === undefined ? "" : String(err));
