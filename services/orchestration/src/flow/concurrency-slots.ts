import { sql } from "drizzle-orm";
import type { Database, DatabaseExecutor } from "@cloudforet/db";
import { queryRows } from "@cloudforet/db";
import { concurrencySlots, concurrencyWaiters, instances, type InstanceRow } from "../db/schema";

/** The limit of an instance naming a concurrency_key without max_concurrency: one at a time. */
export const DEFAULT_MAX_CONCURRENCY = 1;

const limitOf = (row: InstanceRow) => row.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY;

/** The transaction-scoped advisory lock that serializes the grants and wake-ups of one (domain, tenant, key). */
const lockKey = (domainId: string, tenantId: string, key: string) =>
  sql`select pg_advisory_xact_lock(hashtext(${domainId} || '/' || ${tenantId}), hashtext(${key}))`;

/** What may run of a claim: `run` fully; `absorbOnly` (denied, but a signal waits) only to take in its signals. */
export interface Grants {
  run: Set<string>;
  absorbOnly: Set<string>;
}

export interface ConcurrencyKey {
  domainId: string;
  tenantId: string;
  concurrencyKey: string;
}

/**
 * Concurrency slots (seed 002 concurrency_key / max_concurrency).
 *
 * An instance takes a slot of its (domain, tenant, key) at its first claim and keeps it through waits and
 * sleeps until it ends: the runner's terminal checkpoint deletes the slot in the same statement.
 * Grants of a key are serialized by a transaction-scoped advisory lock on it, so any number of
 * replicas never grant more than max_concurrency.
 *
 * An instance that finds its key full is parked as a waiter (scheduled, next_fire_at null: the
 * claimer does not see it, nothing polls it). When a holder ends, `wake` — under the same lock —
 * makes as many waiters due as there are free slots, best priority then oldest first, at their
 * original fire time. Because a denial and a wake-up of one key never interleave, no wake-up is
 * lost; `sweep` (periodic) repairs what a crash between the two could leave behind.
 */
export class ConcurrencySlots {
  constructor(private readonly db: Database) {}

  /**
   * Of the rows just claimed (locked by this engine), those that may run: unkeyed ones and keyed
   * ones holding or now granted a slot. The others become waiters in the same transaction; those
   * with a signal pending stay claimed to take it in (a cancel must not wait for a slot) and are
   * parked by the runner afterwards, the rest are parked here.
   */
  async acquire(rows: InstanceRow[]): Promise<Grants> {
    const allowed = new Set(rows.filter((r) => r.concurrencyKey === null).map((r) => r.id));
    const absorbOnly = new Set<string>();
    const keyed = rows.filter((r) => r.concurrencyKey !== null);
    if (keyed.length === 0) return { run: allowed, absorbOnly };
    const attention = new Set(keyed.filter((r) => r.needsAttention).map((r) => r.id));
    const wanted = keyed.map((r, ord) => ({
      id: r.id,
      domain_id: r.domainId,
      tenant_id: r.tenantId,
      key: r.concurrencyKey,
      max: limitOf(r),
      rank: r.priorityRank,
      fire_at: (r.nextFireAt ?? new Date()).toISOString(),
      ord,
    }));
    const ids = JSON.stringify(keyed.map((r) => r.id));
    const granted = await this.db.transaction(async (tx) => {
      // Locks taken in one global order, so two claimers of overlapping keys cannot deadlock. A hash
      // collision of two keys only serializes them needlessly; it never over-grants.
      await tx.execute(sql`select pg_advisory_xact_lock(a, b) from (
          select distinct hashtext(x.domain_id || '/' || x.tenant_id) as a, hashtext(x.key) as b
          from jsonb_to_recordset(${JSON.stringify(wanted)}::jsonb) as x(domain_id text, tenant_id text, key text) order by 1, 2
        ) keys`);
      await tx.execute(sql`insert into ${concurrencySlots} (instance_id, domain_id, tenant_id, concurrency_key)
        select c.id, c.domain_id, c.tenant_id, c.key from (
          select x.id, x.domain_id, x.tenant_id, x.key, x.max, row_number() over (partition by x.domain_id, x.tenant_id, x.key order by x.ord) as rn
          from jsonb_to_recordset(${JSON.stringify(wanted)}::jsonb) as x(id uuid, domain_id text, tenant_id text, key text, max int, ord int)
          where not exists (select 1 from ${concurrencySlots} s where s.instance_id = x.id)
        ) c
        where c.rn + (select count(*) from ${concurrencySlots} s where s.domain_id = c.domain_id and s.tenant_id = c.tenant_id and s.concurrency_key = c.key) <= c.max
        on conflict (instance_id) do nothing`);
      const holders = await queryRows<{ instance_id: string }>(
        tx,
        sql`select instance_id from ${concurrencySlots} where instance_id in (select (jsonb_array_elements_text(${ids}::jsonb))::uuid)`,
      );
      const held = new Set(holders.map((h) => h.instance_id));
      const denied = wanted.filter((w) => !held.has(w.id));
      if (denied.length > 0) {
        const deniedJson = JSON.stringify(denied);
        await tx.execute(sql`insert into ${concurrencyWaiters} (instance_id, domain_id, tenant_id, concurrency_key, max_concurrency, priority_rank, fire_at)
          select x.id, x.domain_id, x.tenant_id, x.key, x.max, x.rank, x.fire_at
          from jsonb_to_recordset(${deniedJson}::jsonb) as x(id uuid, domain_id text, tenant_id text, key text, max int, rank smallint, fire_at timestamptz)
          on conflict (instance_id) do nothing`);
        // Parked until a wake-up: unlocked, scheduled (the claim made it running), no fire time.
        const parked = JSON.stringify(denied.filter((w) => !attention.has(w.id)).map((w) => w.id));
        await tx.execute(sql`update ${instances}
          set locked_by = null, lease_expires_at = null, next_fire_at = null,
              state = case when state = 'running' then 'scheduled' else state end
          where id in (select (jsonb_array_elements_text(${parked}::jsonb))::uuid)
            and locked_by = ${keyed[0].lockedBy}`);
      }
      return held;
    });
    for (const row of keyed) {
      if (granted.has(row.id)) allowed.add(row.id);
      else if (attention.has(row.id)) absorbOnly.add(row.id);
    }
    return { run: allowed, absorbOnly };
  }

  /**
   * Makes as many waiters of the key due as it has free slots (by the first waiter's
   * max_concurrency), best priority then oldest first. Returns how many were woken.
   */
  async wake({ domainId, tenantId, concurrencyKey }: ConcurrencyKey): Promise<number> {
    return this.db.transaction(async (tx) => {
      await tx.execute(lockKey(domainId, tenantId, concurrencyKey));
      const woken = await queryRows(
        tx,
        sql`with free as (
              select greatest(0, coalesce((select w.max_concurrency from ${concurrencyWaiters} w
                                            where w.domain_id = ${domainId} and w.tenant_id = ${tenantId} and w.concurrency_key = ${concurrencyKey}
                                            order by w.priority_rank desc, w.fire_at limit 1), 0)
                               - (select count(*) from ${concurrencySlots} s where s.domain_id = ${domainId} and s.tenant_id = ${tenantId} and s.concurrency_key = ${concurrencyKey})) as n
            ), stale as (
              -- Waiters that ended or became due some other way (a locked one is taking in a signal: kept).
              delete from ${concurrencyWaiters} w
              where w.domain_id = ${domainId} and w.tenant_id = ${tenantId} and w.concurrency_key = ${concurrencyKey}
                and not exists (select 1 from ${instances} i where i.id = w.instance_id
                                and (i.locked_by is not null or (i.next_fire_at is null and i.state in ('scheduled', 'paused'))))
            ), picked as (
              delete from ${concurrencyWaiters} w
              where w.instance_id in (
                select w2.instance_id from ${concurrencyWaiters} w2 join ${instances} i on i.id = w2.instance_id
                where w2.domain_id = ${domainId} and w2.tenant_id = ${tenantId} and w2.concurrency_key = ${concurrencyKey}
                  -- A paused waiter stays in line but is not woken: it must not hold a slot while paused.
                  and i.locked_by is null and i.next_fire_at is null and i.state = 'scheduled'
                order by w2.priority_rank desc, w2.fire_at limit (select n from free))
              returning w.instance_id, w.fire_at
            )
            update ${instances} i set next_fire_at = picked.fire_at, updated_at = now()
            from picked
            where i.id = picked.instance_id and i.locked_by is null and i.next_fire_at is null and i.state = 'scheduled'
            returning i.id`,
      );
      return woken.length;
    });
  }

  /**
   * Puts an instance back in line after it was claimed without a slot only to take in its signals
   * (and parked again), then wakes its key in case a slot freed meanwhile.
   */
  async requeue(row: InstanceRow): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.execute(lockKey(row.domainId, row.tenantId, row.concurrencyKey!));
      await tx.execute(sql`insert into ${concurrencyWaiters} (instance_id, domain_id, tenant_id, concurrency_key, max_concurrency, priority_rank, fire_at)
        values (${row.id}, ${row.domainId}, ${row.tenantId}, ${row.concurrencyKey}, ${limitOf(row)}, ${row.priorityRank}, ${(row.nextFireAt ?? new Date()).toISOString()})
        on conflict (instance_id) do nothing`);
    });
    await this.wake({ domainId: row.domainId, tenantId: row.tenantId, concurrencyKey: row.concurrencyKey! });
  }

  /**
   * Repairs what no transition would: frees the slots of instances that ended without the runner's
   * terminal checkpoint (a state set from outside) or no longer exist, drops waiters that no longer
   * wait, and wakes the keys that have room (a wake-up lost to a crash). Returns slots freed plus
   * waiters woken.
   */
  async sweep(exec: DatabaseExecutor = this.db): Promise<number> {
    const freed = await queryRows(
      exec,
      sql`delete from ${concurrencySlots} s
          where not exists (select 1 from ${instances} i where i.id = s.instance_id and i.state not in ('completed', 'failed', 'cancelled'))
          returning s.instance_id`,
    );
    await exec.execute(sql`delete from ${concurrencyWaiters} w
        where not exists (select 1 from ${instances} i where i.id = w.instance_id
                          and (i.locked_by is not null or (i.next_fire_at is null and i.state in ('scheduled', 'paused'))))`);
    const keys = await queryRows<{ domain_id: string; tenant_id: string; concurrency_key: string }>(
      exec,
      sql`select distinct w.domain_id, w.tenant_id, w.concurrency_key from ${concurrencyWaiters} w
          where (select count(*) from ${concurrencySlots} s where s.domain_id = w.domain_id and s.tenant_id = w.tenant_id and s.concurrency_key = w.concurrency_key) < w.max_concurrency`,
    );
    let woken = 0;
    for (const key of keys) woken += await this.wake({ domainId: key.domain_id, tenantId: key.tenant_id, concurrencyKey: key.concurrency_key });
    return freed.length + woken;
  }
}
