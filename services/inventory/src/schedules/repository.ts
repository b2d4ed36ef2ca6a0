import { randomUUID } from "node:crypto";
import { and, eq, inArray, isNotNull, lte, sql } from "drizzle-orm";
import type { Database } from "@cloudforet/db";
import { col, defineQueryFields, listWith, type QueryInput, scopeCondition, type TenantScope } from "@cloudforet/query";
import { collectors, jobs, scheduleFires, type CollectorRow, type ScheduleFireRow } from "../db/schema";
import { RUNNING_STATUSES } from "../jobs/status";
import { storedText } from "../jobs/stored-text";
import { nextFireTime } from "./next-fire";

export const scheduleFireFields = defineQueryFields(
  {
    fire_id: col(scheduleFires.fireId),
    collector_id: col(scheduleFires.collectorId),
    scheduled_at: col(scheduleFires.scheduledAt, "datetime"),
    outcome: col(scheduleFires.outcome),
    job_id: col(scheduleFires.jobId),
    reason: col(scheduleFires.reason),
    workspace_id: col(scheduleFires.workspaceId),
    domain_id: col(scheduleFires.domainId),
    created_at: col(scheduleFires.createdAt, "datetime"),
  },
  { keywordFields: ["collector_id", "job_id", "reason"], defaultSort: [{ key: "scheduled_at", desc: true }, { key: "fire_id" }] },
);

/** A fire this replica claimed: the collector as it was, and the fire's row to complete. */
export interface ClaimedFire {
  collector: CollectorRow;
  fireId: string;
  scheduledAt: Date;
}

/** Placeholder outcome of a claimed fire, until the job starts: what stays if the replica dies in between. */
const INTERRUPTED = "the replica stopped before the job started";

/** All SQL of collector schedules: due fires, their records, the next wake-up. */
export class ScheduleRepository {
  constructor(private readonly db: Database) {}

  /** Milliseconds until the earliest enabled schedule is due (≤ 0: one is due), or undefined when none is enabled. */
  async msUntilNextFire(now = new Date()): Promise<number | undefined> {
    const [row] = await this.db
      .select({ at: sql<Date | string | null>`min(${collectors.nextFireAt})` })
      .from(collectors)
      .where(isNotNull(collectors.nextFireAt));
    if (!row?.at) return undefined;
    return new Date(row.at).getTime() - now.getTime();
  }

  /**
   * Claims one due fire, once across replicas: the collector row is taken FOR UPDATE SKIP LOCKED and
   * its next fire moved past `now` in the same transaction, so no other replica sees this fire. Fires
   * missed while no replica ran are caught up ONCE (this fire stands for all of them), then the
   * schedule continues from now. While the collector's previous job still runs, the fire is recorded
   * SKIPPED and undefined returned (as when nothing is due: `due` false).
   */
  async claimDueFire(now = new Date()): Promise<{ due: boolean; claimed?: ClaimedFire; skipped?: ScheduleFireRow }> {
    return this.db.transaction(async (tx) => {
      const [collector] = await tx
        .select()
        .from(collectors)
        .where(and(isNotNull(collectors.nextFireAt), lte(collectors.nextFireAt, now)))
        .orderBy(collectors.nextFireAt)
        .limit(1)
        .for("update", { skipLocked: true });
      if (!collector?.nextFireAt) return { due: false };
      const scheduledAt = collector.nextFireAt;
      await tx
        .update(collectors)
        .set({ nextFireAt: nextFireTime(collector.schedule, now, scheduledAt) })
        .where(and(eq(collectors.domainId, collector.domainId), eq(collectors.collectorId, collector.collectorId)));
      const [running] = await tx
        .select({ jobId: jobs.jobId })
        .from(jobs)
        .where(and(eq(jobs.domainId, collector.domainId), eq(jobs.collectorId, collector.collectorId), inArray(jobs.status, [...RUNNING_STATUSES])))
        .limit(1);
      const base = { fireId: `fire-${randomUUID()}`, domainId: collector.domainId, workspaceId: collector.workspaceId, collectorId: collector.collectorId, scheduledAt };
      const values = running
        ? { ...base, outcome: "SKIPPED" as const, jobId: running.jobId, reason: "the previous job of the collector is still running" }
        : { ...base, outcome: "FAILED" as const, reason: INTERRUPTED };
      // The unique (collector, scheduled_at) index: a fire is recorded once even if a schedule is reset to the same instant.
      const [fire] = await tx.insert(scheduleFires).values(values).onConflictDoNothing().returning();
      if (!fire) return { due: true };
      if (running) return { due: true, skipped: fire };
      return { due: true, claimed: { collector, fireId: fire.fireId, scheduledAt } };
    });
  }

  /** The fire's outcome once the job started or could not. */
  async recordOutcome(fireId: string, outcome: "STARTED" | "SKIPPED" | "FAILED", jobId: string, reason: string): Promise<void> {
    await this.db.update(scheduleFires).set({ outcome, jobId, reason: storedText(reason) }).where(eq(scheduleFires.fireId, fireId));
  }

  listFires(scope: TenantScope, query: QueryInput) {
    return listWith(this.db, scheduleFires, scheduleFireFields, query, scopeCondition(scope, { domainId: scheduleFires.domainId, workspaceId: scheduleFires.workspaceId }));
  }
}
