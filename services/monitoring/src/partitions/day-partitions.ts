import { sql } from "drizzle-orm";
import type { Database } from "@cloudforet/db";
import { queryRows } from "@cloudforet/db";

export const DAY_MS = 86_400_000;

/** The UTC day (days since the epoch) an instant falls in. */
export const dayOf = (ms: number) => Math.floor(ms / DAY_MS);

/** metrics_pYYYYMMDD: the partition holding one UTC day. */
export const partitionName = (day: number) => `metrics_p${new Date(day * DAY_MS).toISOString().slice(0, 10).replace(/-/g, "")}`;

const namePattern = /^metrics_p(\d{4})(\d{2})(\d{2})$/;

/** The day a partition name stands for, or undefined for a table that is not one of ours. */
export function dayOfPartition(name: string): number | undefined {
  const match = namePattern.exec(name);
  return match ? dayOf(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))) : undefined;
}

/** Serializes DDL on monitoring.metrics across replicas (an arbitrary, fixed advisory lock key). */
const DDL_LOCK = 5_505_500_055;

/**
 * The day partitions of monitoring.metrics. A partition is created the first time a sample of its
 * day is written (each process remembers the days it has seen), and dropped whole when the whole day
 * has left the retention window: dropping a table costs the same for ten rows or ten million, where
 * DELETE would scan, write WAL and leave bloat for VACUUM.
 */
export class DayPartitions {
  private readonly known = new Set<number>();

  constructor(private readonly db: Database) {}

  /** Creates the partitions of these days that do not exist yet. */
  async ensure(days: Iterable<number>): Promise<void> {
    const missing = [...new Set(days)].filter((day) => !this.known.has(day));
    if (missing.length === 0) return;
    await this.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${DDL_LOCK})`);
      for (const day of missing) {
        const from = new Date(day * DAY_MS).toISOString();
        const to = new Date((day + 1) * DAY_MS).toISOString();
        await tx.execute(
          sql.raw(`create table if not exists "monitoring"."${partitionName(day)}" partition of "monitoring"."metrics" for values from ('${from}') to ('${to}')`),
        );
      }
    });
    for (const day of missing) this.known.add(day);
  }

  /** Forgets what this process believes exists (after another replica dropped a partition). */
  forget(days: Iterable<number>): void {
    for (const day of days) this.known.delete(day);
  }

  /** Drops every partition whose whole day ends at or before `cutoff`; returns the dropped names. */
  async dropBefore(cutoff: Date): Promise<string[]> {
    const lastExpiredDay = dayOf(cutoff.getTime()) - 1;
    return this.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${DDL_LOCK})`);
      const partitions = await queryRows<{ name: string }>(
        tx,
        sql`select child.relname as name
            from pg_inherits
            join pg_class child on child.oid = pg_inherits.inhrelid
            join pg_class parent on parent.oid = pg_inherits.inhparent
            join pg_namespace ns on ns.oid = parent.relnamespace
            where ns.nspname = 'monitoring' and parent.relname = 'metrics'`,
      );
      const expired = partitions
        .map(({ name }) => ({ name, day: dayOfPartition(name) }))
        .filter((p): p is { name: string; day: number } => p.day !== undefined && p.day <= lastExpiredDay);
      for (const { name, day } of expired) {
        await tx.execute(sql.raw(`drop table if exists "monitoring"."${name}"`));
        this.known.delete(day);
      }
      return expired.map((p) => p.name).sort();
    });
  }
}
