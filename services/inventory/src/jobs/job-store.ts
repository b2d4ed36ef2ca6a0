import { randomUUID } from "node:crypto";
import type { JsonObject } from "@bufbuild/protobuf";
import { and, desc, eq, inArray, isNotNull, lte, notInArray, sql } from "drizzle-orm";
import type { Database, DatabaseExecutor } from "@cloudforet/db";
import { isUniqueViolation } from "@cloudforet/db";
import { conflict, illegalTransition, notFound } from "@cloudforet/errors";
import { enqueueEvents, type NewEvent } from "@cloudforet/events";
import { col, defineQueryFields, json, listWith, type QueryInput } from "@cloudforet/query";
import { scopeCondition, type Scope } from "../access/scope";
import { collectors, jobs, jobTasks, outbox, type JobRow, type JobTaskRow } from "../db/schema";
import { jobEventData, jobSubject, taskSubject } from "./job-events";
import { FINAL_STATUSES, isFinal, jobEventFor, RUNNING_STATUSES, rolledUpProgress, rolledUpStatus, type Status, type TaskTotals } from "./status";

/** At most this many error lines are kept per task (most recent last). */
export const MAX_TASK_ERRORS = 100;

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
    workspace_id: col(jobs.workspaceId),
    domain_id: col(jobs.domainId),
    created_at: col(jobs.createdAt, "datetime"),
    updated_at: col(jobs.updatedAt, "datetime"),
    started_at: col(jobs.startedAt, "datetime"),
    finished_at: col(jobs.finishedAt, "datetime"),
  },
  { keywordFields: ["name", "job_id", "collector_id"], defaultSort: [{ key: "created_at", desc: true }, { key: "job_id" }] },
);

export const jobTaskFields = defineQueryFields(
  {
    job_task_id: col(jobTasks.jobTaskId),
    job_id: col(jobTasks.jobId),
    collector_id: col(jobTasks.collectorId),
    service_account_id: col(jobTasks.serviceAccountId),
    secret_id: col(jobTasks.secretId),
    status: col(jobTasks.status),
    progress: col(jobTasks.progress),
    created_count: col(jobTasks.createdCount),
    updated_count: col(jobTasks.updatedCount),
    deleted_count: col(jobTasks.deletedCount),
    error_count: col(jobTasks.errorCount),
    disconnected_count: col(jobTasks.disconnectedCount),
    errors: json(jobTasks.errors),
    workspace_id: col(jobTasks.workspaceId),
    domain_id: col(jobTasks.domainId),
    created_at: col(jobTasks.createdAt, "datetime"),
    updated_at: col(jobTasks.updatedAt, "datetime"),
    started_at: col(jobTasks.startedAt, "datetime"),
    finished_at: col(jobTasks.finishedAt, "datetime"),
  },
  { keywordFields: ["job_task_id", "job_id", "service_account_id"], defaultSort: [{ key: "created_at" }, { key: "job_task_id" }] },
);

export interface NewJob {
  domainId: string;
  workspaceId: string;
  collectorId: string;
  name: string;
  serviceAccountIds: string[];
  options: JsonObject;
  timeoutAt: Date;
}

export interface TaskCounters {
  createdCount: number;
  updatedCount: number;
  deletedCount: number;
  errorCount: number;
  disconnectedCount: number;
}

/** What the pull loop reports as it goes: progress, counters so far and new error lines. */
export interface PullReport {
  progress: number;
  createdCount: number;
  updatedCount: number;
  errorCount: number;
  newErrors: string[];
}

type Tx = DatabaseExecutor;

const scopeOfJobs = (scope: Scope) => scopeCondition(scope, { domainId: jobs.domainId, workspaceId: jobs.workspaceId });
const scopeOfTasks = (scope: Scope) => scopeCondition(scope, { domainId: jobTasks.domainId, workspaceId: jobTasks.workspaceId });

/**
 * Jobs and their tasks. Every change locks the job row, applies itself, rolls the tasks up into
 * the job (counters, progress, status) and writes its events to the outbox, in one transaction.
 */
export class JobStore {
  constructor(
    private readonly db: Database,
    private readonly onCommit: () => void,
  ) {}

  /** A job in CREATED; ERROR_CONFLICT while another job of the collector is CREATED or IN_PROGRESS. */
  async createJob(input: NewJob): Promise<JobRow> {
    try {
      const job = await this.db.transaction(async (tx) => {
        const [created] = await tx
          .insert(jobs)
          .values({ jobId: `job-${randomUUID()}`, status: "CREATED", totalTaskCount: input.serviceAccountIds.length, ...input })
          .returning();
        await enqueueEvents(tx, outbox, [jobEvent(created, "created")]);
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

  async getJob(scope: Scope, jobId: string): Promise<JobRow | undefined> {
    const [row] = await this.db.select().from(jobs).where(and(eq(jobs.jobId, jobId), scopeOfJobs(scope)));
    return row;
  }

  listJobs(scope: Scope, query: QueryInput) {
    return listWith(this.db, jobs, jobFields, query, scopeOfJobs(scope));
  }

  async getTask(scope: Scope, jobTaskId: string): Promise<JobTaskRow | undefined> {
    const [row] = await this.db.select().from(jobTasks).where(and(eq(jobTasks.jobTaskId, jobTaskId), scopeOfTasks(scope)));
    return row;
  }

  async tasksOf(jobId: string): Promise<JobTaskRow[]> {
    return this.db.select().from(jobTasks).where(eq(jobTasks.jobId, jobId)).orderBy(jobTasks.createdAt, jobTasks.jobTaskId);
  }

  listTasks(scope: Scope, query: QueryInput) {
    return listWith(this.db, jobTasks, jobTaskFields, query, scopeOfTasks(scope));
  }

  /**
   * The counters of the last finished task of this collector and account before `jobId`: how
   * many resources the previous collection saw (the pull loop's progress estimate).
   */
  async previousCollectionSize(domainId: string, collectorId: string, serviceAccountId: string): Promise<number | undefined> {
    const [row] = await this.db
      .select({ seen: sql<number>`${jobTasks.createdCount} + ${jobTasks.updatedCount} + ${jobTasks.errorCount}`.mapWith(Number) })
      .from(jobTasks)
      .where(
        and(
          eq(jobTasks.domainId, domainId),
          eq(jobTasks.collectorId, collectorId),
          eq(jobTasks.serviceAccountId, serviceAccountId),
          eq(jobTasks.status, "FINISHED"),
          isNotNull(jobTasks.finishedAt),
        ),
      )
      .orderBy(desc(jobTasks.finishedAt))
      .limit(1);
    return row?.seen;
  }

  /** A task for one account of a running job (seed 000 "Create JobTask"). */
  async createTask(scope: Scope, input: { jobId: string; serviceAccountId: string; secretId: string; status: "CREATED" | "IN_PROGRESS" }): Promise<JobTaskRow> {
    const { task } = await this.change(scope, input.jobId, async (tx, job) => {
      if (isFinal(job.status)) throw illegalTransition(`The job is already ${job.status}`, { job_id: job.jobId, status: job.status });
      const now = new Date();
      let task: JobTaskRow;
      try {
        [task] = await tx
          .insert(jobTasks)
          .values({
            jobTaskId: `task-${randomUUID()}`,
            jobId: job.jobId,
            domainId: job.domainId,
            workspaceId: job.workspaceId,
            collectorId: job.collectorId,
            serviceAccountId: input.serviceAccountId,
            secretId: input.secretId,
            status: input.status,
            startedAt: input.status === "IN_PROGRESS" ? now : null,
          })
          .returning();
      } catch (err) {
        if (isUniqueViolation(err)) {
          throw conflict("The job already has a task for this service account", { job_id: job.jobId, service_account_id: input.serviceAccountId });
        }
        throw err;
      }
      return { task, taskEvent: "created" };
    });
    return task!;
  }

  /** Seed 000 "Update JobTask Progress": moves the task (and its job) to IN_PROGRESS. */
  async updateProgress(scope: Scope, jobTaskId: string, input: { progress: number; start: boolean; at: Date }): Promise<JobTaskRow> {
    return this.changeTask(scope, jobTaskId, async (tx, task) => {
      if (isFinal(task.status)) throw illegalTransition(`The task is already ${task.status}`, { job_task_id: task.jobTaskId, status: task.status });
      const status = input.start ? "IN_PROGRESS" : task.status;
      const [updated] = await tx
        .update(jobTasks)
        .set({ status, progress: input.progress, startedAt: status === "IN_PROGRESS" ? (task.startedAt ?? input.at) : task.startedAt, updatedAt: input.at })
        .where(eq(jobTasks.jobTaskId, task.jobTaskId))
        .returning();
      return { task: updated, taskEvent: "progressed" };
    });
  }

  /** The pull loop's running report: progress, counters so far, new error lines (capped). */
  async reportPull(scope: Scope, jobTaskId: string, report: PullReport): Promise<JobTaskRow> {
    return this.changeTask(scope, jobTaskId, async (tx, task) => {
      if (isFinal(task.status)) return { task, taskEvent: undefined };
      const [updated] = await tx
        .update(jobTasks)
        .set({
          status: "IN_PROGRESS",
          progress: Math.max(task.progress, report.progress),
          createdCount: report.createdCount,
          updatedCount: report.updatedCount,
          errorCount: report.errorCount,
          errors: [...task.errors, ...report.newErrors].slice(-MAX_TASK_ERRORS),
          startedAt: task.startedAt ?? new Date(),
          updatedAt: new Date(),
        })
        .where(eq(jobTasks.jobTaskId, task.jobTaskId))
        .returning();
      return { task: updated, taskEvent: "progressed" };
    });
  }

  /**
   * Seed 000 "Complete JobTask". Repeating the same completion returns the stored task
   * (`repeated`); completing with another final status is an illegal transition.
   */
  async completeTask(
    scope: Scope,
    jobTaskId: string,
    input: TaskCounters & { status: Status; finishedAt: Date; errors?: string[] },
  ): Promise<{ task: JobTaskRow; repeated: boolean }> {
    let repeated = false;
    const task = await this.changeTask(scope, jobTaskId, async (tx, task) => {
      if (isFinal(task.status)) {
        if (task.status !== input.status) {
          throw illegalTransition(`The task is already ${task.status}`, { job_task_id: task.jobTaskId, status: task.status });
        }
        repeated = true;
        return { task, taskEvent: undefined };
      }
      const [updated] = await tx
        .update(jobTasks)
        .set({
          status: input.status,
          progress: input.status === "FINISHED" ? 100 : task.progress,
          createdCount: input.createdCount,
          updatedCount: input.updatedCount,
          deletedCount: input.deletedCount,
          errorCount: input.errorCount,
          disconnectedCount: input.disconnectedCount,
          errors: [...task.errors, ...(input.errors ?? [])].slice(-MAX_TASK_ERRORS),
          startedAt: task.startedAt ?? input.finishedAt,
          finishedAt: input.finishedAt,
          updatedAt: new Date(),
        })
        .where(eq(jobTasks.jobTaskId, task.jobTaskId))
        .returning();
      return { task: updated, taskEvent: "completed" };
    });
    return { task, repeated };
  }

  /** Cancels the job and its unfinished tasks. */
  async cancelJob(scope: Scope, jobId: string): Promise<JobRow> {
    const { job } = await this.change(scope, jobId, async (tx, job) => {
      if (isFinal(job.status)) throw illegalTransition(`The job is already ${job.status}`, { job_id: job.jobId, status: job.status });
      await this.endUnfinishedTasks(tx, job.jobId, "CANCELED");
      return { task: undefined, taskEvent: undefined, forceStatus: "CANCELED" as const };
    });
    return job;
  }

  /** Ends every running job whose timeout passed (and its unfinished tasks) as TIMEOUT. */
  async timeOutExpired(now = new Date()): Promise<JobRow[]> {
    const expired = await this.db
      .select({ jobId: jobs.jobId, domainId: jobs.domainId })
      .from(jobs)
      .where(and(inArray(jobs.status, [...RUNNING_STATUSES]), lte(jobs.timeoutAt, now)))
      .limit(100);
    const ended: JobRow[] = [];
    for (const { jobId, domainId } of expired) {
      // Under the job's lock: if another replica (or the last task) ended it first, this changes nothing.
      const { job } = await this.change({ domainId }, jobId, async (tx, job) => {
        if (isFinal(job.status)) return { task: undefined, taskEvent: undefined };
        await this.endUnfinishedTasks(tx, job.jobId, "TIMEOUT");
        return { task: undefined, taskEvent: undefined, forceStatus: "TIMEOUT" as const };
      });
      if (job.status === "TIMEOUT") ended.push(job);
    }
    return ended;
  }

  /** Adds what cloud-service's end-of-collection sweep did to the task's counters. */
  async addSweepResult(domainId: string, jobTaskId: string, counts: { disconnectedCount: number; deletedCount: number }, tx?: Tx): Promise<void> {
    const apply = async (db: Tx) => {
      const [task] = await db.select().from(jobTasks).where(and(eq(jobTasks.jobTaskId, jobTaskId), eq(jobTasks.domainId, domainId)));
      if (!task) return;
      await this.applyChange(db, { domainId }, task.jobId, async (inner, _job) => {
        const [updated] = await inner
          .update(jobTasks)
          .set({
            disconnectedCount: sql`${jobTasks.disconnectedCount} + ${counts.disconnectedCount}`,
            deletedCount: sql`${jobTasks.deletedCount} + ${counts.deletedCount}`,
            updatedAt: new Date(),
          })
          .where(eq(jobTasks.jobTaskId, jobTaskId))
          .returning();
        return { task: updated, taskEvent: "updated" };
      });
    };
    if (tx) return apply(tx); // the caller commits, then kicks the outbox
    await this.db.transaction(apply);
    this.onCommit();
  }

  /** Sets the collector's last_collected_at when a job of it ends; returns its name (for the event). */
  private async touchCollector(tx: Tx, job: JobRow): Promise<string | undefined> {
    const [collector] = await tx
      .update(collectors)
      .set({ lastCollectedAt: job.finishedAt ?? new Date() })
      .where(and(eq(collectors.domainId, job.domainId), eq(collectors.collectorId, job.collectorId)))
      .returning({ name: collectors.name });
    return collector?.name;
  }

  private async endUnfinishedTasks(tx: Tx, jobId: string, status: "CANCELED" | "TIMEOUT"): Promise<void> {
    const now = new Date();
    await tx
      .update(jobTasks)
      .set({ status, finishedAt: now, updatedAt: now })
      .where(and(eq(jobTasks.jobId, jobId), notInArray(jobTasks.status, [...FINAL_STATUSES])));
  }

  private async changeTask(
    scope: Scope,
    jobTaskId: string,
    work: (tx: Tx, task: JobTaskRow, job: JobRow) => Promise<{ task: JobTaskRow; taskEvent: string | undefined }>,
  ): Promise<JobTaskRow> {
    const task = await this.getTask(scope, jobTaskId);
    if (!task) throw notFound("Job task not found", { job_task_id: jobTaskId });
    const changed = await this.change(scope, task.jobId, async (tx, job) => {
      // Re-read under the job's lock: the task may have changed since.
      const [current] = await tx.select().from(jobTasks).where(eq(jobTasks.jobTaskId, jobTaskId));
      return work(tx, current, job);
    });
    return changed.task!;
  }

  /** Runs one change of a job in a transaction, then publishes; returns the job after it (and the task it changed). */
  private async change(
    scope: Scope,
    jobId: string,
    work: (tx: Tx, job: JobRow) => Promise<{ task: JobTaskRow | undefined; taskEvent: string | undefined; forceStatus?: Status }>,
  ): Promise<{ job: JobRow; task: JobTaskRow | undefined }> {
    const result = await this.db.transaction((tx) => this.applyChange(tx, scope, jobId, work));
    this.onCommit();
    return result;
  }

  private async applyChange(
    tx: Tx,
    scope: Scope,
    jobId: string,
    work: (tx: Tx, job: JobRow) => Promise<{ task: JobTaskRow | undefined; taskEvent: string | undefined; forceStatus?: Status }>,
  ): Promise<{ job: JobRow; task: JobTaskRow | undefined }> {
    const [job] = await tx
      .select()
      .from(jobs)
      .where(and(eq(jobs.jobId, jobId), scopeOfJobs(scope)))
      .for("update");
    if (!job) throw notFound("Job not found", { job_id: jobId });
    const { task, taskEvent, forceStatus } = await work(tx, job);
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
      .where(eq(jobs.jobId, job.jobId))
      .returning();
    const collectorName = ended ? await this.touchCollector(tx, updated) : undefined;
    const events: NewEvent[] = [];
    if (task && taskEvent) events.push({ subject: taskSubject(taskEvent), domainId: job.domainId, data: jobEventData(updated, task) });
    events.push(jobEvent(updated, status !== job.status ? jobEventFor(status) : "updated", collectorName));
    await enqueueEvents(tx, outbox, events);
    return { job: updated, task };
  }
}

function jobEvent(job: JobRow, event: string, collectorName?: string): NewEvent {
  return { subject: jobSubject(event), domainId: job.domainId, data: jobEventData(job, undefined, collectorName) };
}

export function runningJobConflict(collectorId: string) {
  return conflict("Another job is already running for this collector", { collector_id: collectorId });
}

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
