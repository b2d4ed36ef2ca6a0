import { randomUUID } from "node:crypto";
import { and, desc, eq, isNotNull, lt, sql } from "drizzle-orm";
import type { Database } from "@cloudforet/db";
import { isUniqueViolation } from "@cloudforet/db";
import { conflict } from "@cloudforet/errors";
import { col, defineQueryFields, json, listWith, type QueryInput, scopeCondition, type TenantScope } from "@cloudforet/query";
import { jobs, jobTasks, type JobRow, type JobTaskRow } from "../db/schema";
import { lockJob, rollUpJob, type Tx } from "../jobs/repository";
import { noticeJobsChanged } from "../jobs/job-notices";
import type { Status } from "../jobs/status";

export type { Tx } from "../jobs/repository";

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

/** A task and its job, both locked for the rest of the transaction. */
export interface LockedTask {
  task: JobTaskRow;
  job: JobRow;
}

/** The row a completion writes (the domain decided the values). */
export interface TaskCompletion {
  status: Status;
  progress: number;
  createdCount: number;
  updatedCount: number;
  deletedCount: number;
  errorCount: number;
  disconnectedCount: number;
  errors: string[];
  finishedAt: Date;
  /** Pull only: the checkpoint the collection ended at. */
  checkpoint?: number;
}

/** The row a pull report writes. */
export interface TaskPullProgress {
  checkpoint: number;
  progress: number;
  createdCount: number;
  updatedCount: number;
  errorCount: number;
  errors: string[];
}

/**
 * A task's start by the database's clock, kept once set. cloud-service compares it with the times
 * its resources were collected (also the database's clock), so neither a process clock nor the
 * `updated_at` a plugin sends may set it.
 */
const startedNow = sql`coalesce(${jobTasks.startedAt}, now())`;

const scopeOfTasks = (scope: TenantScope) => scopeCondition(scope, { domainId: jobTasks.domainId, workspaceId: jobTasks.workspaceId });

/**
 * All SQL of job tasks. A change of a task runs in one transaction: `lockTask` reads the task once
 * with its job (both locked, the job first as every change of a job does), the change is written,
 * and the job is rolled up (`rollUpJob`) before the commit.
 */
export class JobTaskRepository {
  constructor(
    private readonly db: Database,
    private readonly onCommit: () => void,
  ) {}

  /** Runs `work` in a transaction, then kicks the outbox. */
  async inTransaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    const result = await this.db.transaction(work);
    this.onCommit();
    return result;
  }

  async getTask(scope: TenantScope, jobTaskId: string): Promise<JobTaskRow | undefined> {
    const [row] = await this.db.select().from(jobTasks).where(and(eq(jobTasks.jobTaskId, jobTaskId), scopeOfTasks(scope)));
    return row;
  }

  listTasks(scope: TenantScope, query: QueryInput) {
    return listWith(this.db, jobTasks, jobTaskFields, query, scopeOfTasks(scope));
  }

  /**
   * The counters of the last finished task of this collector and account: how many resources the
   * previous collection saw (the pull loop's progress estimate).
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

  /**
   * The task and its job in one read, both locked (FOR UPDATE; the job's row is locked first, the
   * order every change of a job takes). Undefined when the task is not in the scope.
   */
  async lockTask(tx: Tx, scope: TenantScope, jobTaskId: string): Promise<LockedTask | undefined> {
    const [row] = await tx
      .select({ job: jobs, task: jobTasks })
      .from(jobs)
      .innerJoin(jobTasks, eq(jobTasks.jobId, jobs.jobId))
      .where(and(eq(jobTasks.jobTaskId, jobTaskId), scopeOfTasks(scope)))
      .for("update");
    return row;
  }

  /**
   * Pull tasks IN_PROGRESS that reported nothing since `before` (the plugin went silent while its
   * stream stayed open), oldest first: what the timeout sweeper fails.
   */
  async silentPullTasks(before: Date, limit: number): Promise<{ jobTaskId: string; domainId: string }[]> {
    return this.db
      .select({ jobTaskId: jobTasks.jobTaskId, domainId: jobTasks.domainId })
      .from(jobTasks)
      .where(and(eq(jobTasks.pull, true), eq(jobTasks.status, "IN_PROGRESS"), lt(jobTasks.updatedAt, before)))
      .orderBy(jobTasks.updatedAt)
      .limit(limit);
  }

  /** Locks a job (ERROR_NOT_FOUND outside the scope). */
  lockJob(tx: Tx, scope: TenantScope, jobId: string): Promise<JobRow> {
    return lockJob(tx, scope, jobId);
  }

  /** Rolls a task's change up into its job and enqueues the task's and the job's events. */
  async rollUp(tx: Tx, job: JobRow, task: JobTaskRow, taskEvent: string): Promise<void> {
    await rollUpJob(tx, job, { task, taskEvent });
  }

  /** A task for one account of a job; ERROR_CONFLICT when the job already has one for the account. */
  async insertTask(tx: Tx, job: JobRow, input: { serviceAccountId: string; secretId: string; status: "CREATED" | "IN_PROGRESS"; pull: boolean; traceparent?: string | null }): Promise<JobTaskRow> {
    try {
      const [task] = await tx
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
          pull: input.pull,
          traceparent: input.traceparent ?? null,
          startedAt: input.status === "IN_PROGRESS" ? sql`now()` : null,
        })
        .returning();
      if (input.pull) await noticeJobsChanged(tx); // every replica's claim loop may take it
      return task;
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw conflict("The job already has a task for this service account", { job_id: job.jobId, service_account_id: input.serviceAccountId });
      }
      throw err;
    }
  }

  async writeProgress(tx: Tx, jobTaskId: string, input: { status: Status; progress: number; at: Date }): Promise<JobTaskRow> {
    const [updated] = await tx
      .update(jobTasks)
      .set({ status: input.status, progress: input.progress, ...(input.status === "IN_PROGRESS" ? { startedAt: startedNow } : {}), updatedAt: input.at })
      .where(eq(jobTasks.jobTaskId, jobTaskId))
      .returning();
    return updated;
  }

  async writePullProgress(tx: Tx, jobTaskId: string, input: TaskPullProgress): Promise<JobTaskRow> {
    const [updated] = await tx
      .update(jobTasks)
      .set({ status: "IN_PROGRESS", ...input, startedAt: startedNow, updatedAt: new Date() })
      .where(eq(jobTasks.jobTaskId, jobTaskId))
      .returning();
    return updated;
  }

  async writeCompletion(tx: Tx, jobTaskId: string, { checkpoint, ...completion }: TaskCompletion): Promise<JobTaskRow> {
    const [updated] = await tx
      .update(jobTasks)
      .set({
        ...completion,
        // Never reported a start: it cannot have started before it was created. The earlier bound
        // is the safe one for the sweep (it disconnects less).
        startedAt: sql`coalesce(${jobTasks.startedAt}, ${jobTasks.createdAt})`,
        ...(checkpoint !== undefined ? { checkpoint } : {}),
        leaseOwner: null,
        leaseExpiresAt: null,
        updatedAt: new Date(),
      })
      .where(eq(jobTasks.jobTaskId, jobTaskId))
      .returning();
    return updated;
  }

  /** Adds to the task's disconnected and deleted counters (cloud-service's sweep). */
  async addSweepCounts(tx: Tx, jobTaskId: string, counts: { disconnectedCount: number; deletedCount: number }): Promise<JobTaskRow> {
    const [updated] = await tx
      .update(jobTasks)
      .set({
        disconnectedCount: sql`${jobTasks.disconnectedCount} + ${counts.disconnectedCount}`,
        deletedCount: sql`${jobTasks.deletedCount} + ${counts.deletedCount}`,
        updatedAt: new Date(),
      })
      .where(eq(jobTasks.jobTaskId, jobTaskId))
      .returning();
    return updated;
  }
}
