import { and, eq, inArray, isNull, lt, notInArray, or, sql } from "drizzle-orm";
import type { Database } from "@cloudforet/db";
import { noticeJobsChanged } from "../jobs/job-notices";
import { collectors, jobs, jobTasks, type CollectorRow, type JobRow, type JobTaskRow } from "../db/schema";
import { isFinal, RUNNING_STATUSES } from "../jobs/status";

/** A pull task this replica now holds, with what it needs to run it. */
export interface ClaimedTask {
  task: JobTaskRow;
  job: JobRow;
  /** Undefined when the collector was deleted since the job started. */
  collector: CollectorRow | undefined;
  /** Who held the lease before, when it expired rather than being handed back. */
  reclaimedFrom: string | null;
}

export type LeaseState = "held" | "lost" | "ended";

/** A lease's end by the database's clock, so that replicas whose clocks differ agree on it. */
const leaseEnd = (leaseMs: number) => sql`now() + ${leaseMs} * interval '1 millisecond'`;

/**
 * All SQL of pull task leases. A task is claimable while it runs, is a pull task and nobody holds
 * it (never claimed, handed back, or its holder stopped renewing). Claims skip rows another
 * replica is claiming, so each task goes to one replica.
 */
export class PullLeases {
  constructor(private readonly db: Database) {}

  async claim(owner: string, leaseMs: number, limit: number): Promise<ClaimedTask[]> {
    const claimed = await this.db.transaction(async (tx) => {
      const free = await tx
        .select({ jobTaskId: jobTasks.jobTaskId, leaseOwner: jobTasks.leaseOwner })
        .from(jobTasks)
        .where(
          and(
            eq(jobTasks.pull, true),
            inArray(jobTasks.status, [...RUNNING_STATUSES]),
            or(isNull(jobTasks.leaseExpiresAt), lt(jobTasks.leaseExpiresAt, sql`now()`)),
          ),
        )
        .orderBy(jobTasks.createdAt, jobTasks.jobTaskId)
        .limit(limit)
        .for("update", { skipLocked: true });
      if (free.length === 0) return [];
      const tasks = await tx
        .update(jobTasks)
        .set({ leaseOwner: owner, leaseExpiresAt: leaseEnd(leaseMs) })
        .where(inArray(jobTasks.jobTaskId, free.map((row) => row.jobTaskId)))
        .returning();
      const previous = new Map(free.map((row) => [row.jobTaskId, row.leaseOwner]));
      return tasks.map((task) => ({ task, reclaimedFrom: previous.get(task.jobTaskId) ?? null }));
    });
    const result: ClaimedTask[] = [];
    for (const { task, reclaimedFrom } of claimed) {
      const [job] = await this.db.select().from(jobs).where(eq(jobs.jobId, task.jobId));
      const [collector] = await this.db
        .select()
        .from(collectors)
        .where(and(eq(collectors.domainId, task.domainId), eq(collectors.collectorId, task.collectorId)));
      result.push({ task, job, collector, reclaimedFrom });
    }
    return result;
  }

  /** Extends the lease; "lost" when another replica holds it now, "ended" when the task ended (canceled, timed out). */
  async renew(jobTaskId: string, owner: string, leaseMs: number): Promise<LeaseState> {
    const [renewed] = await this.db
      .update(jobTasks)
      .set({ leaseExpiresAt: leaseEnd(leaseMs) })
      .where(and(eq(jobTasks.jobTaskId, jobTaskId), eq(jobTasks.leaseOwner, owner), inArray(jobTasks.status, [...RUNNING_STATUSES])))
      .returning({ status: jobTasks.status });
    if (renewed) return "held";
    const [current] = await this.db.select({ status: jobTasks.status }).from(jobTasks).where(eq(jobTasks.jobTaskId, jobTaskId));
    return !current || isFinal(current.status) ? "ended" : "lost";
  }

  /** Hands the task back (graceful shutdown): another replica may claim it at once. */
  async release(jobTaskId: string, owner: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const released = await tx
        .update(jobTasks)
        .set({ leaseOwner: null, leaseExpiresAt: null })
        .where(and(eq(jobTasks.jobTaskId, jobTaskId), eq(jobTasks.leaseOwner, owner)))
        .returning({ jobTaskId: jobTasks.jobTaskId });
      // Other replicas' claim loops sleep until a NOTIFY or a lease's end: tell them it is free.
      if (released.length > 0) await noticeJobsChanged(tx);
    });
  }

  /**
   * Milliseconds until a running pull task that someone else holds could be claimed (its lease
   * ends; 0 when one is claimable now), or undefined when there is none: when a claim loop that
   * found nothing must look again, so a dead replica's tasks are taken over on time. `ours` are the
   * tasks this process runs (and renews): a lease under this replica's name that it does not run is
   * a previous run's (a restart with a fixed INVENTORY_REPLICA_ID), and is waited for like any other.
   */
  async msUntilClaimable(ours: readonly string[]): Promise<number | undefined> {
    const [row] = await this.db
      .select({
        ms: sql<number | null>`extract(epoch from (min(coalesce(${jobTasks.leaseExpiresAt}, now())) - now())) * 1000`.mapWith((v) => (v === null ? null : Number(v))),
      })
      .from(jobTasks)
      .where(
        and(
          eq(jobTasks.pull, true),
          inArray(jobTasks.status, [...RUNNING_STATUSES]),
          // The leases we renew while we run them are not work waiting for us.
          ours.length > 0 ? notInArray(jobTasks.jobTaskId, [...ours]) : undefined,
        ),
      );
    if (!row || row.ms === null) return undefined;
    return Math.max(0, row.ms);
  }
}
