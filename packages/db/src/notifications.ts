import { sql } from "drizzle-orm";
import type postgres from "postgres";
import type { Logger } from "pino";
import type { DatabaseExecutor } from "./database";

/** What a LISTENer is told. */
export interface NotificationListener {
  /** A NOTIFY on the channel was committed (payload as sent, "" when none). */
  onNotify(payload: string): void;
  /**
   * LISTEN is in place, at first or again after the connection was lost: notifications sent while
   * it was not were missed, so look at the database now instead of trusting them.
   */
  onListening?(): void;
  /** LISTEN dropped with its connection: until `onListening`, poll as if there were no notifications. */
  onLost?(): void;
}

export interface ChannelSubscription {
  /** True while LISTEN is in place: a NOTIFY sent now will arrive. False while (re)connecting. */
  readonly listening: boolean;
  close(): Promise<void>;
}

/**
 * Postgres LISTEN/NOTIFY for one service's database, over one connection of its own (outside the
 * pool: a LISTENing connection must stay open and idle). Every channel and listener of the service
 * shares that connection. When it drops, listeners stop being `listening` and LISTEN is re-issued
 * with backoff; `onListening` then tells them to catch up. Embedded PGlite has none (see
 * `notificationsOf`): there, callers keep polling and in-process kicks.
 */
export interface Notifications {
  listen(channel: string, listener: NotificationListener): ChannelSubscription;
  close(): Promise<void>;
}

const byDatabase = new WeakMap<object, Notifications>();

/** The notifications of a database opened by `openDatabase`, or undefined (PGlite, or a db made elsewhere). */
export function notificationsOf(db: DatabaseExecutor): Notifications | undefined {
  return byDatabase.get(db);
}

/** @internal openDatabase's registration. */
export function registerNotifications(db: object, notifications: Notifications): void {
  byDatabase.set(db, notifications);
}

/**
 * Sends a NOTIFY on `channel` as part of `executor`'s transaction: delivered when it commits, never
 * when it rolls back, and sent once per transaction for the same channel and payload.
 */
export async function notify(executor: DatabaseExecutor, channel: string, payload = ""): Promise<void> {
  await executor.execute(sql`select pg_notify(${channel}, ${payload})`);
}

/** Postgres truncates identifiers past 63 bytes; `pg_notify` refuses such channels outright. */
export const MAX_CHANNEL_BYTES = 63;

const RETRY_INITIAL_MS = 500;
const RETRY_MAX_MS = 30_000;

type ClientFactory = (handlers: { onnotify(channel: string, payload: string): void; onclose(): void }) => postgres.Sql;

/** @internal The postgres.js implementation; `connect` makes the dedicated one-connection client. */
export class PostgresNotifications implements Notifications {
  private readonly channels = new Map<string, Set<NotificationListener>>();
  /** Channels LISTENed on the current connection (cleared when it closes). */
  private readonly active = new Set<string>();
  private client: postgres.Sql | undefined;
  private timer: NodeJS.Timeout | undefined;
  private syncing = false;
  private resync = false;
  private failures = 0;
  private closed = false;

  constructor(
    private readonly connect: ClientFactory,
    private readonly log: Logger,
  ) {}

  listen(channel: string, listener: NotificationListener): ChannelSubscription {
    if (Buffer.byteLength(channel) > MAX_CHANNEL_BYTES) throw new Error(`notification channel "${channel}" is longer than ${MAX_CHANNEL_BYTES} bytes`);
    let listeners = this.channels.get(channel);
    if (!listeners) this.channels.set(channel, (listeners = new Set()));
    listeners.add(listener);
    this.schedule(0);
    const self = this;
    return {
      get listening() {
        return listeners.has(listener) && self.active.has(channel);
      },
      async close() {
        listeners.delete(listener);
        if (listeners.size === 0 && self.channels.get(channel) === listeners) {
          self.channels.delete(channel);
          self.schedule(0);
        }
      },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.active.clear();
    await this.client?.end({ timeout: 1 }).catch(() => {});
  }

  private schedule(delayMs: number): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.sync();
    }, delayMs);
    this.timer.unref();
  }

  /** Makes the connection's LISTENs match the channels wanted; on failure retries with backoff. */
  private async sync(): Promise<void> {
    if (this.syncing) {
      this.resync = true;
      return;
    }
    this.syncing = true;
    try {
      do {
        this.resync = false;
        await this.reconcile();
      } while (this.resync && !this.closed);
      if (this.failures > 0) this.log.info({ failed_attempts: this.failures }, "listening for notifications again");
      this.failures = 0;
    } catch (err) {
      if (this.closed) return;
      this.failures += 1;
      const retryInMs = Math.min(RETRY_INITIAL_MS * 2 ** Math.min(this.failures - 1, 10), RETRY_MAX_MS);
      this.log.warn({ err, failed_attempts: this.failures, retry_in_ms: retryInMs }, "could not LISTEN; relying on polling until it can");
      clearTimeout(this.timer);
      this.timer = undefined;
      this.schedule(retryInMs);
    } finally {
      this.syncing = false;
    }
  }

  private async reconcile(): Promise<void> {
    const client = (this.client ??= this.connect({
      onnotify: (channel, payload) => this.dispatch(channel, payload),
      onclose: () => this.lost(),
    }));
    for (const channel of [...this.channels.keys()]) {
      if (this.active.has(channel)) continue;
      await client.unsafe(`listen ${quoteIdent(channel)}`);
      this.active.add(channel);
      for (const listener of this.channels.get(channel) ?? []) guard(() => listener.onListening?.(), this.log);
    }
    for (const channel of [...this.active]) {
      if (this.channels.has(channel)) continue;
      await client.unsafe(`unlisten ${quoteIdent(channel)}`);
      this.active.delete(channel);
    }
  }

  /** The connection closed: nothing is LISTENed any more until the next sync reconnects. */
  private lost(): void {
    if (this.closed) return;
    const dropped = [...this.active];
    this.active.clear();
    if (dropped.length > 0) this.log.warn("notification connection lost; reconnecting");
    for (const channel of dropped) for (const listener of this.channels.get(channel) ?? []) guard(() => listener.onLost?.(), this.log);
    // While a sync is failing its own backoff timer is set, and schedule() leaves it alone.
    this.schedule(0);
  }

  private dispatch(channel: string, payload: string): void {
    for (const listener of this.channels.get(channel) ?? []) guard(() => listener.onNotify(payload), this.log);
  }
}

function guard(callback: () => void, log: Logger): void {
  try {
    callback();
  } catch (err) {
    log.error({ err }, "notification listener threw");
  }
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;
