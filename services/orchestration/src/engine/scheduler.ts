import { sql } from "drizzle-orm";
import type { Database } from "@cloudforet/db";
import { queryRows } from "@cloudforet/db";
import { preparedRows } from "../db/prepared-rows";
import type { Logger } from "pino";
import { instances, type InstanceRow } from "../db/schema";
import type { ConcurrencySlots } from "../flow/concurrency-slots";
import type { EngineMetrics } from "./engine-metrics";
import { instanceFromSql } from "./instance-runner";

export interface SchedulerSettings {
  engineId: string;
  /** Poll interval: due instances are claimed at least this often even without wake-ups. */
  tickMs: number;
  /** How long a claim holds an instance; renewed every third of it while the engine works on it. */
  leaseMs: number;
  /** Instances claimed per query. */
  batchSize: number;
  /** Instances this engine works on at once. */
  maxActive: number;
}

export interface SchedulerDependencies {
  db: Database;
  metrics: EngineMetrics;
  logger: Logger;
  /** Concurrency slots: keyed instances run only while holding one. */
  slots: ConcurrencySlots;
  /** `slotless`: a waiter for a concurrency slot claimed only to take in its signals. */
  run(row: InstanceRow, options?: { slotless?: boolean }): Promise<void>;
}

/** The claimable instances (alias `i`): parked in a claimable state, due, unlocked. */
const DUE = sql.raw(`i.locked_by is null and i.state in ('scheduled', 'waiting', 'paused') and i.next_fire_at <= now()`);

/**
 * Claims due instances and hands them to the runner. Any number of replicas share the work: a
 * claim takes due, unlocked instances round-robin between tenants (priority, then fire time within
 * one) with FOR UPDATE SKIP LOCKED and marks them with this engine's lease, so no instance runs in two engines at once. Leases are
 * renewed while held; expired ones (a crashed engine's) are recovered at start and periodically.
 */
export class Scheduler {
  private active = 0;
  /** Numbers this engine's claims: each claim's lease token is `<engine id>/<n>`. */
  private claims = 0;
  private claiming = false;
  private claimAgain = false;
  private stopped = true;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly wakeTimers = new Map<number, NodeJS.Timeout>();
  private readonly idle: Array<() => void> = [];
  /** Claimed waiters for a concurrency slot that run only to take in their signals. */
  private readonly slotless = new Set<string>();

  constructor(
    private readonly deps: SchedulerDependencies,
    private readonly settings: SchedulerSettings,
  ) {}

  async start(): Promise<void> {
    this.stopped = false;
    await this.recoverStale();
    const every = (ms: number, work: () => Promise<unknown> | void) => {
      const timer = setInterval(() => void Promise.resolve(work()).catch((err) => this.deps.logger.warn({ err }, "scheduler background work failed")), ms);
      timer.unref();
      this.timers.push(timer);
    };
    every(this.settings.tickMs, () => this.kick());
    every(Math.max(100, Math.floor(this.settings.leaseMs / 3)), () => this.renewLeases());
    every(Math.max(500, Math.floor(this.settings.leaseMs / 2)), () => this.recoverStale());
    this.kick();
  }

  /** How many more instances this engine would take on right now. */
  freeCapacity(): number {
    return this.stopped ? 0 : Math.max(0, this.settings.maxActive - this.active);
  }

  /** Claim now (coalesced: a claim already running claims once more when it ends). */
  kick(): void {
    if (this.stopped) return;
    if (this.claiming) {
      this.claimAgain = true;
      return;
    }
    void this.claimLoop();
  }

  /** Claim at `at` — for timers shorter than the tick, so short delays are not rounded up to it. */
  kickAt(at: number): void {
    const delay = at - Date.now();
    if (delay <= 0) return this.kick();
    if (delay > this.settings.tickMs * 5 || this.stopped) return;
    const bucket = Math.ceil(at / 5) * 5;
    if (this.wakeTimers.has(bucket)) return;
    const timer = setTimeout(() => {
      this.wakeTimers.delete(bucket);
      this.kick();
    }, bucket - Date.now());
    timer.unref();
    this.wakeTimers.set(bucket, timer);
  }

  private async claimLoop(): Promise<void> {
    this.claiming = true;
    try {
      do {
        this.claimAgain = false;
        const free = this.settings.maxActive - this.active;
        if (free <= 0) {
          this.claimAgain = true;
          break;
        }
        const want = Math.min(free, this.settings.batchSize);
        const rows = await this.claim(want);
        for (const row of rows) this.launch(row, this.slotless.delete(row.id));
        if (rows.length === want) this.claimAgain = true;
      } while (this.claimAgain && !this.stopped && this.active < this.settings.maxActive);
    } catch (err) {
      this.deps.logger.warn({ err }, "claiming due instances failed");
    } finally {
      this.claiming = false;
    }
  }

  private launch(row: InstanceRow, slotless = false): void {
    this.active++;
    void this.deps.run(row, slotless ? { slotless } : undefined).finally(() => {
      this.active--;
      if (this.claimAgain) this.kick();
      if (this.active === 0) for (const resolve of this.idle.splice(0)) resolve();
    });
  }

  /**
   * Claims up to `limit` due instances for this engine, fairly between tenants: each tenant with due
   * work contributes its best `limit` candidates (priority, then fire time), and the batch takes
   * round by round — every tenant's first, then every tenant's second… — critical before low within
   * a round. So one tenant's flood cannot starve a tenant whose instances came later, priorities
   * hold within a tenant, and across tenants a round is ordered by priority. The tenants with due
   * work are found by a loose index scan (one index probe per tenant), so the cost grows with the
   * number of tenants with due work, not with the backlog. Keyed instances claimed then take their
   * concurrency slot (`ConcurrencySlots.acquire`); those whose key is full become waiters, which
   * have no fire time until a slot frees, so the claimer never sees them meanwhile.
   */
  async claim(limit: number): Promise<InstanceRow[]> {
    const started = performance.now();
    // A token per claim, not just the engine id: if this engine's own lease ran out and it claimed
    // the instance again, the older pass's writes fail instead of interleaving with the new one.
    const token = `${this.settings.engineId}/${++this.claims}`;
    const rows = await preparedRows(
      this.deps.db,
      sql`with recursive tenants as (
            (select i.tenant_id from ${instances} i where ${DUE} order by i.tenant_id limit 1)
            union all
            select (select i.tenant_id from ${instances} i where ${DUE} and i.tenant_id > t.tenant_id order by i.tenant_id limit 1)
            from tenants t where t.tenant_id is not null
          ), candidates as (
            select c.id, c.priority_rank, c.next_fire_at,
                   row_number() over (partition by t.tenant_id order by c.priority_rank desc, c.next_fire_at) as round
            from tenants t cross join lateral (
              select i.id, i.priority_rank, i.next_fire_at from ${instances} i
              where i.tenant_id = t.tenant_id and ${DUE}
              order by i.priority_rank desc, i.next_fire_at
              limit ${limit}
            ) c
            where t.tenant_id is not null
          ), due as (
            select i.id from ${instances} i
            join (select id from candidates order by round, priority_rank desc, next_fire_at limit ${limit}) pick on pick.id = i.id
            where ${DUE}
            for update of i skip locked
          )
          update ${instances} i
          set locked_by = ${token},
              lease_expires_at = now() + ${this.settings.leaseMs} * interval '1 millisecond',
              state = case when i.state = 'paused' then 'paused' else 'running' end,
              updated_at = now()
          from due where i.id = due.id
          returning i.*`,
    );
    let claimed = rows.map(instanceFromSql).sort((a, b) => b.priorityRank - a.priorityRank || (a.nextFireAt?.getTime() ?? 0) - (b.nextFireAt?.getTime() ?? 0));
    if (claimed.some((row) => row.concurrencyKey !== null)) claimed = await this.takeSlots(claimed);
    const metrics = this.deps.metrics;
    metrics.tickDuration.observe((performance.now() - started) / 1000);
    metrics.queueDepth.set(claimed.length);
    if (claimed.length > 0) metrics.instancesClaimed.inc(claimed.length);
    return claimed;
  }

  /**
   * Keeps the claimed rows that hold (or now get) their concurrency slot; the others become waiters
   * (`ConcurrencySlots.acquire`) except those with a signal pending, kept to take it in.
   */
  private async takeSlots(claimed: InstanceRow[]): Promise<InstanceRow[]> {
    let grants;
    try {
      grants = await this.deps.slots.acquire(claimed);
    } catch (err) {
      // Hand everything back rather than hold instances nobody runs until their lease expires.
      await this.deps.db
        .execute(
          sql`update ${instances}
              set locked_by = null, lease_expires_at = null, state = case when state = 'running' then 'scheduled' else state end
              where id in (select (jsonb_array_elements_text(${JSON.stringify(claimed.map((r) => r.id))}::jsonb))::uuid)
                and locked_by = ${claimed[0].lockedBy}`,
        )
        .catch(() => {});
      throw err;
    }
    for (const id of grants.absorbOnly) this.slotless.add(id);
    return claimed.filter((row) => grants.run.has(row.id) || grants.absorbOnly.has(row.id));
  }

  /** Rows whose lease token is one of this engine's. */
  private heldByMe() {
    const prefix = `${this.settings.engineId}/`;
    return sql`locked_by is not null and left(locked_by, ${prefix.length}) = ${prefix}`;
  }

  /** Extends the leases of everything this engine holds. */
  async renewLeases(): Promise<void> {
    if (this.active === 0) return;
    await this.deps.db.execute(
      sql`update ${instances} set lease_expires_at = now() + ${this.settings.leaseMs} * interval '1 millisecond'
          where ${this.heldByMe()}`,
    );
  }

  /**
   * Instances whose lease expired (their engine died or stalled) go back to the queue: a running
   * one is rescheduled now; a waiting or paused one keeps its state and fire time. So does an
   * instance moved to running from outside, which no engine holds.
   */
  async recoverStale(): Promise<number> {
    const rows = await queryRows(
      this.deps.db,
      sql`update ${instances}
          set locked_by = null, lease_expires_at = null,
              state = case when state = 'running' then 'scheduled' else state end,
              next_fire_at = case when state = 'running' then now() else next_fire_at end
          where (locked_by is not null and lease_expires_at < now())
             -- set to running from outside (PATCH /state) without an engine holding it
             or (locked_by is null and state = 'running')
          returning id`,
    );
    if (rows.length > 0) {
      this.deps.metrics.recoveryStaleInstances.inc(rows.length);
      this.deps.logger.info({ recovered: rows.length }, "recovered instances of a stopped engine");
      this.kick();
    }
    const repaired = await this.deps.slots.sweep();
    if (repaired > 0) {
      this.deps.logger.info({ repaired }, "freed concurrency slots of instances that ended outside the engine, or woke their waiters");
      this.kick();
    }
    return rows.length;
  }

  /** Stops claiming; waits up to `graceMs` for running passes, then hands back what this engine still holds. */
  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers.splice(0)) clearInterval(timer);
    for (const timer of this.wakeTimers.values()) clearTimeout(timer);
    this.wakeTimers.clear();
    if (this.active > 0) {
      await Promise.race([new Promise<void>((resolve) => this.idle.push(resolve)), new Promise((resolve) => setTimeout(resolve, graceMs).unref())]);
    }
    await this.deps.db
      .execute(
        sql`update ${instances}
            set locked_by = null, lease_expires_at = null,
                state = case when state = 'running' then 'scheduled' else state end,
                next_fire_at = case when state = 'running' then now() else next_fire_at end
            where ${this.heldByMe()}`,
      )
      .catch((err) => this.deps.logger.warn({ err }, "could not hand back held instances; their leases will expire"));
  }
}
