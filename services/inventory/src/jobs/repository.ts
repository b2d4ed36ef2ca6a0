import { randomUUID } from "node:crypto";
import type { JsonObject } from "@bufbuild/protobuf";
import { and, eq, inArray, lte, notInArray, sql } from "drizzle-orm";
import type { Database, DatabaseExecutor } from "@cloudforet/db";
import { isUniqueViolation, queryRows } from "@cloudforet/db";
import { conflict, illegalTransition, notFound } from "@cloudforet/errors";
import { enqueueEvents, type NewEvent } from "@cloudforet/events";
import { col, defineQueryFields, json, listWith, type QueryInput, scopeCondition, type TenantScope } from "@cloudforet/query";
import { collectors, jobs, jobTasks, outbox, scheduleFires, type JobRow, type JobTaskRow } from "../db/schema";
import { jobEventData, jobSubject, taskSubject } from "./job-events";
import { noticeJobsChanged } from "./job-notices";
import { FINAL_STATUSES, isFinal, jobEventFor, RUNNING_STATUSES, rolledUpProgress, rolledUpStatus, type Status, type TaskTotals } from "./status";

export type Tx = DatabaseExecutor;

export const jobFields = defineQueryFields(
  {
    job_id: col(jobs.jobId),
    name: col(jobs.name),
    collector_id: col(jobs.collectorId),
    status: col(jobs.status),
    service_account_ids: json(jobs.serviceAccountIds),
    options: json(jobs.options),
    total_task_count: col(jobs.totalTaskCount),
    succeeded_task_count: col(jobs.succeededTaskCount),
    failed_task_count: col(jobs.failedTaskCount),
    created_count: col(jobs.createdCount),
    updated_count: col(jobs.updatedCount),
    deleted_count: col(jobs.deletedCount),
    error_count: col(jobs.errorCount),
    progress: col(jobs.progress),
    started_by: col(jobs.startedBy),
    workspace_id: col(jobs.workspaceId),
    domain_id: col(jobs.domainId),
    created_at: col(jobs.createdAt, "datetime"),
    updated_at: col(jobs.updatedAt, "datetime"),
    started_at: col(jobs.startedAt, "datetime"),
    finished_at: col(jobs.finishedAt, "datetime"),
  },
  { keywordFields: ["name", "job_id", "collector_id"], defaultSort: [{ key: "created_at", desc: true }, { key: "job_id" }] },
);

export interface NewJob {
  domainId: string;
  workspaceId: string;
  collectorId: string;
  name: string;
  serviceAccountIds: string[];
  options: JsonObject;
  timeoutAt: Date;
  /** Chosen by the caller when something must be bound to it before the job exists (newJobId). */
  jobId?: string;
  /** The caller's credentials for pull collection, sealed (CollectionCredentials). */
  sealedAuthorization?: string | null;
  /** A user id, "schedule" or "system" (default ""). */
  startedBy?: string;
}

export const newJobId = () => `job-${randomUUID()}`;

/** What one change of a job did: the task it changed and the event to announce, or the status it forces. */
export interface JobChange {
  task: JobTaskRow | undefined;
  taskEvent: string | undefined;
  forceStatus?: Status;
}

export const scopeOfJobs = (scope: TenantScope) => scopeCondition(scope, { domainId: jobs.domainId, workspaceId: jobs.workspaceId });

/**
 * All SQL of jobs. Every change locks the job row, applies itself, rolls the tasks up into the job
 * (counters, progress, status) and writes its events to the outbox, in one transaction.
 */
export class JobRepository {
  constructor(
    private readonly db: Database,
    private readonly onCommit: () => void,
  ) {}

  /**
   * A job in CREATED; ERROR_CONFLICT while another job of the collector is CREATED or IN_PROGRESS.
   * `withJob` runs inside the same transaction.
   */
  async createJob(input: NewJob, withJob?: (tx: Tx, job: JobRow) => Promise<void>): Promise<JobRow> {
    try {
      const job = await this.db.transaction(async (tx) => {
        const [created] = await tx
          .insert(jobs)
          .values({ ...input, jobId: input.jobId ?? newJobId(), status: "CREATED", totalTaskCount: input.serviceAccountIds.length })
          .returning();
        await enqueueEvents(tx, outbox, [jobEvent(created, "created")]);
        await noticeJobsChanged(tx); // sweepers learn its timeout
        // What must exist with the job or not at all (its pull tasks).
        if (withJob) await withJob(tx, created);
        return created;
      });
      this.onCommit();
      return job;
    } catch (err) {
      if (isUniqueViolation(err)) throw runningJobConflict(input.collectorId);
      throw err;
    }
  }

  async runningJobOf(domainId: string, collectorId: string): Promise<JobRow | undefined> {
    const [row] = await this.db
      .select()
      .from(jobs)
      .where(and(eq(jobs.domainId, domainId), eq(jobs.collectorId, collectorId), inArray(jobs.status, [...RUNNING_STATUSES])))
      .limit(1);
    return row;
  }

  async getJob(scope: TenantScope, jobId: string): Promise<JobRow | undefined> {
    const [row] = await this.db.select().from(jobs).where(and(eq(jobs.jobId, jobId), scopeOfJobs(scope)));
    return row;
  }

  listJobs(scope: TenantScope, query: QueryInput) {
    return listWith(this.db, jobs, jobFields, query, scopeOfJobs(scope));
  }

  /** Cancels the job and its unfinished tasks. */
  async cancelJob(scope: TenantScope, jobId: string): Promise<JobRow> {
    const job = await this.db.transaction(async (tx) => {
      const current = await lockJob(tx, scope, jobId);
      if (isFinal(current.status)) throw illegalJobTransition(current);
      await endUnfinishedTasks(tx, current.jobId, "CANCELED");
      return (await rollUpJob(tx, current, { task: undefined, taskEvent: undefined, forceStatus: "CANCELED" })).job;
    });
    this.onCommit();
    return job;
  }

  /**
   * Ends running jobs whose timeout passed (and their unfinished tasks) as TIMEOUT; returns the
   * jobs this call ended, at most `limit`. Each job is claimed with FOR UPDATE SKIP LOCKED in its
   * own transaction: a job another replica (or a task's completion) holds is left to it, and one
   * that ended meanwhile no longer matches, so each timeout is reported by exactly one replica.
   */
  /**
   * Milliseconds until the earliest running job's timeout by `now` (≤ 0: one is due), or undefined
   * when no job runs: what the sweeper sleeps until. Same clock as `timeOutExpired`.
   */
  async msUntilNextTimeout(now = new Date()): Promise<number | undefined> {
    const [row] = await this.db
      .select({ at: sql<Date | string | null>`min(${jobs.timeoutAt})` })
      .from(jobs)
      .where(inArray(jobs.status, [...RUNNING_STATUSES]));
    if (!row?.at) return undefined;
    return new Date(row.at).getTime() - now.getTime();
  }

  async timeOutExpired(now = new Date(), limit = 100): Promise<JobRow[]> {
    const ended: JobRow[] = [];
    while (ended.length < limit) {
      const job = await this.db.transaction(async (tx) => {
        const [claimed] = await tx
          .select({ jobId: jobs.jobId, domainId: jobs.domainId })
          .from(jobs)
          .where(and(inArray(jobs.status, [...RUNNING_STATUSES]), lte(jobs.timeoutAt, now)))
          .orderBy(jobs.timeoutAt)
          .limit(1)
          .for("update", { skipLocked: true });
        if (!claimed) return undefined;
        const current = await lockJob(tx, { domainId: claimed.domainId }, claimed.jobId);
        await endUnfinishedTasks(tx, current.jobId, "TIMEOUT");
        return (await rollUpJob(tx, current, { task: undefined, taskEvent: undefined, forceStatus: "TIMEOUT" })).job;
      });
      if (!job) break;
      this.onCommit();
      ended.push(job);
    }
    return ended;
  }
}

/** What one pruning pass removed. */
export interface PruneResult {
  jobs: number;
  tasks: number;
  fires: number;
}

/** Jobs (with their tasks) and schedule fires removed per statement, so no transaction holds many locks for long. */
const PRUNE_BATCH = 1000;

/**
 * Removes finished jobs (any final status) that ended before `before`, with their tasks, and schedule
 * fires recorded before it; running jobs and anything younger stay. Only one replica prunes at a
 * time: a pass runs under a transaction-level advisory lock and returns undefined when another
 * replica holds it.
 */
export async function pruneFinishedJobs(db: Database, before: Date): Promise<PruneResult | undefined> {
  const result: PruneResult = { jobs: 0, tasks: 0, fires: 0 };
  for (;;) {
    const batch = await db.transaction(async (tx) => {
      const [lock] = await queryRows<{ locked: boolean }>(tx, sql`select pg_try_advisory_xact_lock(hashtext('cloudforet_inventory.prune')) as locked`);
      if (!lock?.locked) return undefined;
      const old = await tx
        .select({ jobId: jobs.jobId })
        .from(jobs)
        .where(and(inArray(jobs.status, [...FINAL_STATUSES]), lte(jobs.finishedAt, before)))
        .limit(PRUNE_BATCH);
      const ids = old.map((j) => j.jobId);
      const tasks = ids.length > 0 ? await tx.delete(jobTasks).where(inArray(jobTasks.jobId, ids)).returning({ id: jobTasks.jobTaskId }) : [];
      if (ids.length > 0) await tx.delete(jobs).where(inArray(jobs.jobId, ids));
      const oldFires = await tx.select({ fireId: scheduleFires.fireId }).from(scheduleFires).where(lte(scheduleFires.createdAt, before)).limit(PRUNE_BATCH);
      if (oldFires.length > 0) await tx.delete(scheduleFires).where(inArray(scheduleFires.fireId, oldFires.map((f) => f.fireId)));
      return { jobs: ids.length, tasks: tasks.length, fires: oldFires.length };
    });
    if (!batch) return result.jobs + result.fires > 0 ? result : undefined;
    result.jobs += batch.jobs;
    result.tasks += batch.tasks;
    result.fires += batch.fires;
    if (batch.jobs < PRUNE_BATCH && batch.fires < PRUNE_BATCH) return result;
  }
}

export function illegalJobTransition(job: JobRow) {
  return illegalTransition(`The job is already ${job.status}`, { job_id: job.jobId, status: job.status });
}

/** Locks the job row for the rest of the transaction; ERROR_NOT_FOUND outside the scope. */
export async function lockJob(tx: Tx, scope: TenantScope, jobId: string): Promise<JobRow> {
  const [job] = await tx
    .select()
    .from(jobs)
    .where(and(eq(jobs.jobId, jobId), scopeOfJobs(scope)))
    .for("update");
  if (!job) throw notFound("Job not found", { job_id: jobId });
  return job;
}

/**
 * After a change of a job locked in `tx`: rolls its tasks up into it (counters, progress, status),
 * stamps the collector when the job ends and enqueues the events. Nothing to announce: the job as it was.
 */
export async function rollUpJob(tx: Tx, job: JobRow, { task, taskEvent, forceStatus }: JobChange): Promise<{ job: JobRow; task: JobTaskRow | undefined }> {
  if (!taskEvent && !forceStatus) return { job, task };
  const totals = await taskTotals(tx, job.jobId);
  const now = new Date();
  const status = forceStatus ?? rolledUpStatus(job.status as Status, job.totalTaskCount, totals);
  const ended = isFinal(status) && !isFinal(job.status);
  const [updated] = await tx
    .update(jobs)
    .set({
      status,
      succeededTaskCount: totals.succeeded,
      failedTaskCount: totals.failed,
      createdCount: totals.created,
      updatedCount: totals.updated,
      deletedCount: totals.deleted,
      errorCount: totals.errors,
      progress: status === "FINISHED" ? 100 : rolledUpProgress(job.totalTaskCount, totals),
      startedAt: job.startedAt ?? (status !== "CREATED" ? now : null),
      finishedAt: ended ? now : job.finishedAt,
      version: job.version + 1,
      updatedAt: now,
    })
    // A job ends once: the job row is locked above, and the end is also conditional on the job
    // still running, so its finish event can never be enqueued twice.
    .where(ended ? and(eq(jobs.jobId, job.jobId), inArray(jobs.status, [...RUNNING_STATUSES])) : eq(jobs.jobId, job.jobId))
    .returning();
  if (!updated) return { job, task };
  const collectorName = ended ? await touchCollector(tx, updated) : undefined;
  const events: NewEvent[] = [];
  if (task && taskEvent) events.push({ subject: taskSubject(taskEvent), domainId: job.domainId, data: jobEventData(updated, task) });
  events.push(jobEvent(updated, status !== job.status ? jobEventFor(status) : "updated", collectorName));
  await enqueueEvents(tx, outbox, events);
  return { job: updated, task };
}

export function runningJobConflict(collectorId: string) {
  return conflict("Another job is already running for this collector", { collector_id: collectorId });
}

function jobEvent(job: JobRow, event: string, collectorName?: string): NewEvent {
  return { subject: jobSubject(event), domainId: job.domainId, data: jobEventData(job, undefined, collectorName) };
}

/** Sets the collector's last_collected_at when a job of it ends; returns its name (for the event). */
async function touchCollector(tx: Tx, job: JobRow): Promise<string | undefined> {
  const [collector] = await tx
    .update(collectors)
    .set({ lastCollectedAt: job.finishedAt ?? new Date() })
    .where(and(eq(collectors.domainId, job.domainId), eq(collectors.collectorId, job.collectorId)))
    .returning({ name: collectors.name });
  return collector?.name;
}

/** A job's end reaches its tasks that had not ended (part of ending the job, so it lives here). */
async function endUnfinishedTasks(tx: Tx, jobId: string, status: "CANCELED" | "TIMEOUT"): Promise<void> {
  const now = new Date();
  await tx
    .update(jobTasks)
    .set({ status, finishedAt: now, updatedAt: now, leaseOwner: null, leaseExpiresAt: null })
    .where(and(eq(jobTasks.jobId, jobId), notInArray(jobTasks.status, [...FINAL_STATUSES])));
}

/** What the job's tasks add up to (the roll-up's input). */
async function taskTotals(tx: Tx, jobId: string): Promise<TaskTotals> {
  const [row] = await tx
    .select({
      succeeded: sql<number>`count(*) filter (where ${jobTasks.status} = 'FINISHED')`.mapWith(Number),
      failed: sql<number>`count(*) filter (where ${jobTasks.status} in ('FAILURE', 'TIMEOUT', 'CANCELED'))`.mapWith(Number),
      running: sql<number>`count(*) filter (where ${jobTasks.status} = 'IN_PROGRESS')`.mapWith(Number),
      created: sql<number>`coalesce(sum(${jobTasks.createdCount}), 0)`.mapWith(Number),
      updated: sql<number>`coalesce(sum(${jobTasks.updatedCount}), 0)`.mapWith(Number),
      deleted: sql<number>`coalesce(sum(${jobTasks.deletedCount}), 0)`.mapWith(Number),
      errors: sql<number>`coalesce(sum(${jobTasks.errorCount}), 0)`.mapWith(Number),
      progressSum: sql<number>`coalesce(sum(case when ${jobTasks.status} in ('FINISHED', 'FAILURE', 'TIMEOUT', 'CANCELED') then 100 else ${jobTasks.progress} end), 0)`.mapWith(Number),
    })
    .from(jobTasks)
    .where(eq(jobTasks.jobId, jobId));
  return row;
}
