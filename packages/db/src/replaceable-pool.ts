import postgres from "postgres";
import type { Logger } from "pino";
import { autoPrepared, RecurringTexts } from "./auto-prepare";

type Sql = postgres.Sql;

export interface PoolWatchOptions {
  /** How long one ping through the pool may take before it counts as unanswered (default 1.5 s). */
  pingDeadlineMs?: number;
  /** How long the pool may leave every ping unanswered before it is checked for a wedge (default 15 s). */
  wedgedAfterMs?: number;
  /** Prepare recurring statements (see `autoPrepared`); default false: nothing is prepared, not even on request. */
  autoPrepare?: boolean;
}

/**
 * A postgres.js pool that can be swapped for a fresh one while drizzle keeps its reference to
 * `client`, and a ping that does the swap when the pool is wedged.
 *
 * Wedged means: pings through the pool have gone unanswered for `wedgedAfterMs` while a connection
 * of its own answers at once. That happens when every pooled connection hangs: half-open TCP
 * connections after a network cut or a Postgres crash (nothing ever answers on them), or a driver
 * bug that leaves a query waiting on a connection that is gone. Without the swap such a pool never
 * recovers, and the service stays unready until someone restarts it. Queries hanging on the old
 * pool fail with CONNECTION_DESTROYED (ERROR_SERVICE_UNAVAILABLE, which clients retry).
 */
export class ReplaceablePool {
  readonly client: Sql;
  private readonly open: () => Sql;
  private current: Sql;
  /** The first ping of the current run of late ones; `settled` once the pool answered it after all. */
  private oldestUnanswered: { since: number; settled: boolean } | undefined;
  private readonly pingDeadlineMs: number;
  private readonly wedgedAfterMs: number;
  /** How many times the pool was replaced (for logs and tests). */
  replacements = 0;

  constructor(
    open: () => Sql,
    private readonly openSingle: () => Sql,
    private readonly log: Logger,
    options: PoolWatchOptions = {},
  ) {
    this.pingDeadlineMs = options.pingDeadlineMs ?? 1500;
    this.wedgedAfterMs = options.wedgedAfterMs ?? 15_000;
    const texts = options.autoPrepare ? new RecurringTexts() : undefined;
    this.open = () => autoPrepared(open(), texts);
    this.current = this.open();
    const pool = () => this.current;
    this.client = new Proxy(this.current, {
      get(_target, prop) {
        // postgres.js methods are closures over their pool: no binding needed.
        return Reflect.get(pool(), prop);
      },
      apply(_target, thisArg, args) {
        return Reflect.apply(pool() as unknown as (...a: unknown[]) => unknown, thisArg, args);
      },
    });
  }

  /**
   * Resolves when the pool answers `select 1`; rejects when it does not within `pingDeadlineMs`.
   * A pool is replaced only when a ping sent `wedgedAfterMs` ago is still unanswered (a busy pool
   * answers it eventually; a wedged one never does) and a connection of its own answers at once.
   */
  async ping(): Promise<void> {
    const probe = { since: Date.now(), settled: false };
    const answered = this.current.unsafe("select 1").then(() => "answered" as const);
    void answered.then(
      () => (probe.settled = true),
      () => (probe.settled = true),
    );
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), this.pingDeadlineMs);
    });
    try {
      if ((await Promise.race([answered, deadline])) === "answered") return;
    } finally {
      clearTimeout(timer);
    }
    if (!this.oldestUnanswered || this.oldestUnanswered.settled) this.oldestUnanswered = probe;
    const oldest = this.oldestUnanswered;
    if (Date.now() - oldest.since >= this.wedgedAfterMs && !oldest.settled && (await this.answersAlone())) {
      this.oldestUnanswered = undefined;
      await this.replace();
      return this.ping();
    }
    throw new Error(`the connection pool did not answer within ${this.pingDeadlineMs} ms`);
  }

  /** Opens a fresh pool with the old one's parsers and serializers (drizzle sets some) and destroys the old one. */
  async replace(): Promise<void> {
    const old = this.current;
    const next = this.open();
    Object.assign(next.options.parsers, old.options.parsers);
    Object.assign(next.options.serializers, old.options.serializers);
    this.current = next;
    this.replacements += 1;
    this.log.warn({ unanswered_for_ms: this.wedgedAfterMs, replacements: this.replacements }, "connection pool wedged while Postgres answers: replaced it");
    await old.end({ timeout: 0 }).catch(() => {});
  }

  end(options?: { timeout?: number }): Promise<void> {
    return this.current.end(options);
  }

  /** True when a connection of its own answers `select 1`: Postgres is fine, the pool is not. */
  private async answersAlone(): Promise<boolean> {
    const single = this.openSingle();
    try {
      await single.unsafe("select 1");
      return true;
    } catch {
      return false;
    } finally {
      await single.end({ timeout: 1 }).catch(() => {});
    }
  }
}
