import { sql } from "drizzle-orm";
import type { Database } from "@cloudforet/db";
import { queryRows } from "@cloudforet/db";
import type { Logger } from "pino";
import { instances, type InstanceRow } from "../db/schema";
import type { ConcurrencySlots } from "../flow/concurrency-slots";
import type { EngineMetrics } from "./engine-metrics";
import { instanceFromSql } from "../instances/instance-row";
import type { EngineEvents } from "./engine-events";
import type { InstancePass } from "./instance-pass";

export interface SchedulerSettings {
  engineId: string;
  /**
   * Poll interval while busy. Idle, the poll backs off (doubling up to IDLE_POLL_MAX_MS) and sleeps
   * until the next stored fire time instead: wake-ups and in-process timers (kick, kickAt) start
   * work at once, the poll only catches what no wake-up reported.
   */
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
  /** Runs each claimed instance. */
  pass: Pick<InstancePass, "run">;
  /** Hears that a claim moved an instance to running (watch streams). */
  events: Pick<EngineEvents, "instanceStateChanged">;
}

/** Room reserved for an instance claimed outside the claim loop (Scheduler.reserve). */
export interface ReservedClaim {
  /** The lease token to claim it with. */
  token: string;
  leaseMs: number;
  /** An instance was taken (counted as the claim loop's are). */
  claimed(): void;
  /** Frees the room: nothing was claimed, or the pass over what was ended. Once; later calls do nothing. */
  release(): void;
}

/** The longest an idle engine goes without looking for due instances itself. */
export const IDLE_POLL_MAX_MS = 30_000;
/** How often the concurrency-slot repair sweep runs when nothing else calls for it. */
const SLOT_SWEEP_MS = 120_000;

/** Fire times one engine keeps to set its timer to (kickAt); beyond, the poll finds them. */
const MAX_KNOWN_FIRE_TIMES = 1_024;

/** Longest a Node timer waits (2^31 - 1 ms, about 24.8 days); a longer delay would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The claimable instances (alias `i`): parked in a claimable state, due, unlocked. */
const DUE = sql.raw(`i.locked_by is null and i.state in ('scheduled', 'waiting', 'paused') and i.next_fire_at <= now()`);

/**
 * Claims due instances and hands them to the instance pass. Any number of replicas share the work: a
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
  /** The one timer for the next claim: the poll, or the earliest fire time known here. */
  private tickTimer?: NodeJS.Timeout;
  private tickAt = Number.POSITIVE_INFINITY;
  /**
   * Fire times this engine was told of (kickAt) and has not reached, earliest first, distinct, at
   * most MAX_KNOWN_FIRE_TIMES: the timer is set to each in turn. Without them, a second fire time
   * told while an earlier one was pending waited for the poll after it.
   */
  private readonly fireTimes: number[] = [];
  /** Polls in a row that found nothing (the idle back-off). */
  private emptyPolls = 0;
  private recoverTimer?: NodeJS.Timeout;
  private lastSlotSweep = 0;
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
    every(Math.max(100, Math.floor(this.settings.leaseMs / 3)), () => this.renewLeases());
    this.scheduleRecovery(this.recoveryDelay(undefined));
    this.kick();
  }

  /**
   * Arms the claim timer for `at` unless it is already due sooner. A claim that runs clears it; the
   * claim loop re-arms it (poll or next fire time) when it ends.
   */
  private armTick(at: number): void {
    if (this.stopped || at >= this.tickAt) return;
    clearTimeout(this.tickTimer);
    this.tickAt = at;
    // A tick further off than a timer can wait fires early; its poll finds nothing and arms again.
    this.tickTimer = setTimeout(() => {
      this.tickTimer = undefined;
      this.tickAt = Number.POSITIVE_INFINITY;
      this.poll();
      this.armNextFireTime();
    }, Math.min(Math.max(0, at - Date.now()), MAX_TIMER_MS));
    this.tickTimer.unref();
  }

  /** The timer's claim: when it finds nothing, look up the next stored fire time and sleep until then (bounded by the back-off). */
  private poll(): void {
    if (this.stopped) return;
    if (this.claiming) return this.kick();
    void this.claimLoop(true);
  }

  /** The next poll while idle: the tick doubled per empty poll, up to IDLE_POLL_MAX_MS. */
  private idleDelay(): number {
    const tick = this.settings.tickMs;
    return Math.max(tick, Math.min(IDLE_POLL_MAX_MS, tick * 2 ** Math.min(this.emptyPolls, 20)));
  }

  /** Milliseconds until the earliest claimable instance is due (undefined: none is parked with a fire time). */
  private async msUntilNextDue(): Promise<number | undefined> {
    const [row] = await queryRows<{ ms: number | string | null }>(
      this.deps.db,
      sql`select (extract(epoch from (min(i.next_fire_at) - now())) * 1000)::float8 as ms
          from ${instances} i where i.locked_by is null and i.state in ('scheduled', 'waiting', 'paused') and i.next_fire_at is not null`,
    );
    return row?.ms === null || row?.ms === undefined ? undefined : Number(row.ms);
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

  /**
   * One instance became due now (a worker's result or a signal for it): claim just that row, a
   * one-row update by primary key, instead of the fair multi-tenant claim — the round trip and the
   * planner's work are most of a worker step's latency. With no room here, or when the row is not
   * claimable (another engine holds it, or it is not due), it is left to the ordinary claim.
   */
  claimInstance(instanceId: string): void {
    if (this.stopped) return;
    if (this.active >= this.settings.maxActive) return this.kick();
    this.active++; // reserve the room while the claim runs, so kicks meanwhile do not overfill
    void this.claimById(instanceId)
      .then((row) => {
        this.active--;
        if (row) this.launch(row, this.slotless.delete(row.id));
      })
      .catch((err) => {
        this.active--;
        this.deps.logger.warn({ err, instance_id: instanceId }, "claiming a due instance failed; the claim loop takes it");
        this.kick();
      });
  }

  private async claimById(instanceId: string): Promise<InstanceRow | undefined> {
    const token = `${this.settings.engineId}/${++this.claims}`;
    const rows = await queryRows(
      this.deps.db,
      sql`update ${instances} i
          set locked_by = ${token},
              lease_expires_at = now() + ${this.settings.leaseMs} * interval '1 millisecond',
              state = case when i.state = 'paused' then 'paused' else 'running' end,
              updated_at = now()
          where i.id = ${instanceId} and ${DUE}
          returning i.*`,
    );
    let claimed = rows.map(instanceFromSql);
    if (claimed.some((row) => row.concurrencyKey !== null)) claimed = await this.takeSlots(claimed);
    if (claimed.length > 0) this.deps.metrics.instancesClaimed.inc(claimed.length);
    return claimed[0];
  }

  /**
   * Room for one instance claimed outside the claim loop — a worker's report taking its instance
   * for this engine (ReportAdvance) — and the lease token to claim it with; undefined when this
   * engine is full or stopping. The room is held until `release`, which the claimer calls when it
   * claimed nothing or its pass ended.
   */
  reserve(): ReservedClaim | undefined {
    if (this.stopped || this.active >= this.settings.maxActive) return undefined;
    this.active++;
    let released = false;
    return {
      token: `${this.settings.engineId}/${++this.claims}`,
      leaseMs: this.settings.leaseMs,
      claimed: () => this.deps.metrics.instancesClaimed.inc(),
      release: () => {
        if (released) return;
        released = true;
        this.ended();
      },
    };
  }

  /** Claim at `at` — for timers shorter than the tick, so short delays are not rounded up to it. */
  kickAt(at: number): void {
    if (at - Date.now() <= 0) return this.kick();
    const slot = Math.ceil(at / 5) * 5;
    const times = this.fireTimes;
    let i = times.length;
    while (i > 0 && times[i - 1] > slot) i--;
    if (times[i - 1] !== slot) {
      times.splice(i, 0, slot);
      // The furthest are forgotten first: the poll's look-up of the next fire time finds them.
      if (times.length > MAX_KNOWN_FIRE_TIMES) times.pop();
    }
    this.armTick(slot);
  }

  /** Sets the timer to the earliest known fire time still ahead (those passed were just claimed). */
  private armNextFireTime(): void {
    const now = Date.now();
    while (this.fireTimes.length > 0 && this.fireTimes[0] <= now) this.fireTimes.shift();
    if (this.fireTimes.length > 0) this.armTick(this.fireTimes[0]);
  }

  /** `polled`: started by the timer, so an empty result backs the poll off. */
  private async claimLoop(polled = false): Promise<void> {
    this.claiming = true;
    let found = 0;
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
        found += rows.length;
        for (const row of rows) this.launch(row, this.slotless.delete(row.id));
        if (rows.length === want) this.claimAgain = true;
      } while (this.claimAgain && !this.stopped && this.active < this.settings.maxActive);
      await this.armNext(polled, found);
    } catch (err) {
      this.deps.logger.warn({ err }, "claiming due instances failed");
      this.armTick(Date.now() + this.settings.tickMs);
    } finally {
      this.claiming = false;
    }
  }

  /**
   * After a claim: busy (something found or running), poll again in a tick; idle, back off — and
   * after a poll that found nothing, sleep until the next stored fire time if it comes sooner
   * (instances parked by another replica that went away have no timer here).
   */
  private async armNext(polled: boolean, found: number): Promise<void> {
    if (found > 0 || this.active > 0) {
      this.emptyPolls = 0;
      return this.armTick(Date.now() + this.settings.tickMs);
    }
    if (!polled) return this.armTick(Date.now() + this.idleDelay());
    this.emptyPolls++;
    const until = await this.msUntilNextDue();
    const delay = until === undefined ? this.idleDelay() : Math.min(this.idleDelay(), Math.max(0, until));
    this.armTick(Date.now() + delay);
  }

  private launch(row: InstanceRow, slotless = false): void {
    this.active++;
    if (row.state === "running") this.deps.events.instanceStateChanged(row, { to: "running", next: null });
    void this.deps.pass.run(row, slotless ? { slotless } : undefined).finally(() => this.ended());
  }

  /** A pass of this engine ended (or a reserved claim took nothing): its room is free again. */
  private ended(): void {
    this.active--;
    if (this.claimAgain) this.kick();
    if (this.active === 0) for (const resolve of this.idle.splice(0)) resolve();
  }

  /**
   * Claims up to `limit` due instances for this engine, fairly between tenants (a tenant: a (domain, tenant) pair): each tenant with due
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
    const rows = await queryRows(
      this.deps.db,
      sql`with recursive tenants as (
            (select i.domain_id, i.tenant_id from ${instances} i where ${DUE} order by i.domain_id, i.tenant_id limit 1)
            union all
            select n.domain_id, n.tenant_id from tenants t cross join lateral (
              select i.domain_id, i.tenant_id from ${instances} i
              where ${DUE} and (i.domain_id, i.tenant_id) > (t.domain_id, t.tenant_id)
              order by i.domain_id, i.tenant_id limit 1
            ) n
          ), candidates as (
            select c.id, c.priority_rank, c.next_fire_at,
                   row_number() over (partition by t.domain_id, t.tenant_id order by c.priority_rank desc, c.next_fire_at) as round
            from tenants t cross join lateral (
              select i.id, i.priority_rank, i.next_fire_at from ${instances} i
              where i.domain_id = t.domain_id and i.tenant_id = t.tenant_id and ${DUE}
              order by i.priority_rank desc, i.next_fire_at
              limit ${limit}
            ) c
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
    return (await this.recover()).recovered;
  }

  /**
   * recoverStale, and when the next lease runs out (ms from now; undefined: none is held). No lease
   * can expire sooner, whoever holds it, so sleeping until then misses no crashed replica's claim.
   */
  private async recover(): Promise<{ recovered: number; nextExpiryMs?: number }> {
    const [row] = await queryRows<{ ids: string[] | string; next_ms: number | string | null }>(
      this.deps.db,
      sql`with recovered as (
            update ${instances}
            set locked_by = null, lease_expires_at = null,
                state = case when state = 'running' then 'scheduled' else state end,
                next_fire_at = case when state = 'running' then now() else next_fire_at end
            where (locked_by is not null and lease_expires_at < now())
               -- set to running from outside (PATCH /state) without an engine holding it
               or (locked_by is null and state = 'running')
            returning id
          )
          select coalesce((select json_agg(id) from recovered), '[]'::json) as ids,
                 (select (extract(epoch from (min(lease_expires_at) - now())) * 1000)::float8
                  from ${instances} where locked_by is not null and lease_expires_at >= now()) as next_ms`,
    );
    const ids = (typeof row.ids === "string" ? JSON.parse(row.ids) : row.ids) as string[];
    if (ids.length > 0) {
      this.deps.metrics.recoveryStaleInstances.inc(ids.length);
      this.deps.logger.info({ recovered: ids.length }, "recovered instances of a stopped engine");
      this.kick();
    }
    // The slot repair is for rare losses (a crash between two transitions): not on every recovery.
    if (ids.length > 0 || Date.now() - this.lastSlotSweep >= SLOT_SWEEP_MS) {
      this.lastSlotSweep = Date.now();
      const repaired = await this.deps.slots.sweep();
      if (repaired > 0) {
        this.deps.logger.info({ repaired }, "freed concurrency slots of instances that ended outside the engine, or woke their waiters");
        this.kick();
      }
    }
    return { recovered: ids.length, nextExpiryMs: row.next_ms === null ? undefined : Number(row.next_ms) };
  }

  /** The wait before the next recovery: just after the next lease expiry, at least every lease, never hot. */
  private recoveryDelay(nextExpiryMs: number | undefined): number {
    const floor = Math.max(500, Math.floor(this.settings.leaseMs / 2));
    const ceiling = Math.max(floor, this.settings.leaseMs);
    return nextExpiryMs === undefined ? ceiling : Math.min(ceiling, Math.max(floor, Math.ceil(nextExpiryMs) + 50));
  }

  private scheduleRecovery(delay: number): void {
    if (this.stopped) return;
    this.recoverTimer = setTimeout(() => {
      this.recover()
        .then((r) => this.scheduleRecovery(this.recoveryDelay(r.nextExpiryMs)))
        .catch((err) => {
          this.deps.logger.warn({ err }, "scheduler background work failed");
          this.scheduleRecovery(this.recoveryDelay(undefined));
        });
    }, delay);
    this.recoverTimer.unref();
  }

  /** Stops claiming; waits up to `graceMs` for running passes, then hands back what this engine still holds. */
  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers.splice(0)) clearInterval(timer);
    clearTimeout(this.tickTimer);
    clearTimeout(this.recoverTimer);
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
