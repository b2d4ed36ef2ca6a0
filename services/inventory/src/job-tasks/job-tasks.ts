import { illegalTransition, invalidParameter, missingParameter, notFound } from "@cloudforet/errors";
import { type QueryInput, tenantScope, type TenantScope } from "@cloudforet/query";
import { type Caller, currentTraceparent, requireWorkspaceAccess } from "@cloudforet/runtime";
import { validateId } from "../collectors/collectors";
import type { JobTaskRow } from "../db/schema";
import type { IdentityDirectory } from "../identity-directory";
import type { JobRepository } from "../jobs/repository";
import { FINAL_STATUSES, isFinal, type Status } from "../jobs/status";
import { storedText } from "../jobs/stored-text";
import type { JobTaskRepository, LockedTask, Tx } from "./repository";

/** At most this many error lines are kept per task (most recent last). */
export const MAX_TASK_ERRORS = 100;

/**
 * A pull write by a replica that no longer holds the task's lease (it expired and another replica
 * claimed the task): the write is refused, the new holder carries on from the last checkpoint.
 */
export class LeaseLostError extends Error {
  constructor(readonly jobTaskId: string) {
    super(`the lease on task ${jobTaskId} is held by another replica`);
    this.name = "LeaseLostError";
  }
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
  /** The replica writing; the report is refused (LeaseLostError) unless it holds the task's lease. */
  leaseOwner: string;
  /** Plugin items written and counted so far, stored with the counters in one transaction. */
  checkpoint: number;
  progress: number;
  createdCount: number;
  updatedCount: number;
  errorCount: number;
  newErrors: string[];
}

/** A status as the request named it: `name` is undefined for a number no status has. */
export interface RequestedStatus {
  name: string | undefined;
  value: number;
}

/** A task's end as JobTask.Complete asks for it (or the pull loop, with its lease). */
export interface Completion extends TaskCounters {
  status: Status;
  finishedAt: Date;
  errors?: string[];
  /** Pull only: refused (LeaseLostError) unless `leaseOwner` holds the task's lease. */
  pull?: { leaseOwner: string; checkpoint: number };
}

export interface CompleteRequest {
  jobTaskId: string;
  status: RequestedStatus;
  createdCount: number;
  updatedCount: number;
  deletedCount: number;
  errorCount: number;
  disconnectedCount: number;
  /** Undefined: now. */
  finishedAt: Date | undefined;
}

export function requireTaskId(id: string): string {
  if (!id) throw missingParameter("job_task_id");
  return validateId("job_task_id", id);
}

/** The status a request names; unknown numbers are refused. */
export function statusName(status: RequestedStatus): Status {
  if (!status.name) throw invalidParameter("Unknown status", { parameter: "status", value: String(status.value) });
  return status.name as Status;
}

function counter(parameter: string, value: number): number {
  if (!Number.isInteger(value) || value < 0) throw invalidParameter(`${parameter} must be a non-negative integer`, { parameter, value: String(value) });
  return value;
}

/** A time from the request, or now; absurd ones are refused rather than stored. */
function instant(parameter: string, date: Date | undefined): Date {
  if (!date) return new Date();
  const year = date.getUTCFullYear();
  if (Number.isNaN(date.getTime()) || year < 2000 || year > 9999) throw invalidParameter(`${parameter} is not a valid time`, { parameter });
  return date;
}

/** Error lines as stored: sanitised, appended, the most recent MAX_TASK_ERRORS kept. */
const withErrors = (current: string[], added: string[]) => [...current, ...added.map((line) => storedText(line))].slice(-MAX_TASK_ERRORS);

/**
 * Job tasks: one account's part of a job, created, moved along and completed by a plugin (push) or
 * the pull loop, each change rolled up into its job in the same transaction.
 */
/** A task to create: one account of a job. */
export interface NewTask {
  jobId: string;
  serviceAccountId: string;
  secretId: string;
  status: "CREATED" | "IN_PROGRESS";
  pull?: boolean;
}

export class JobTasks {
  constructor(
    private readonly tasks: JobTaskRepository,
    private readonly jobs: JobRepository,
    private readonly identity: IdentityDirectory,
  ) {}

  get(scope: TenantScope, jobTaskId: string): Promise<JobTaskRow | undefined> {
    return this.tasks.getTask(scope, jobTaskId);
  }

  list(scope: TenantScope, query: QueryInput) {
    return this.tasks.listTasks(scope, query);
  }

  /** How many resources the account's previous collection saw (the pull loop's progress estimate). */
  previousCollectionSize(domainId: string, collectorId: string, serviceAccountId: string): Promise<number | undefined> {
    return this.tasks.previousCollectionSize(domainId, collectorId, serviceAccountId);
  }

  /** Seed 000 "Create JobTask": a task for one of the job's accounts, as the caller. */
  async create(
    caller: Caller,
    authorization: string | null,
    request: { jobId: string; serviceAccountId: string; secretId: string; status: RequestedStatus },
  ): Promise<JobTaskRow> {
    const scope = tenantScope(caller);
    if (!request.jobId) throw missingParameter("job_id");
    validateId("job_id", request.jobId);
    if (!request.serviceAccountId) throw missingParameter("service_account_id");
    validateId("service_account_id", request.serviceAccountId);
    const status = statusName(request.status);
    if (status !== "CREATED" && status !== "IN_PROGRESS") {
      throw invalidParameter("A task starts CREATED or IN_PROGRESS", { parameter: "status", value: status });
    }
    const job = await this.jobs.getJob(scope, request.jobId);
    if (!job) throw notFound("Job not found", { job_id: request.jobId });
    requireWorkspaceAccess(caller, job.workspaceId, "write");
    if (!job.serviceAccountIds.includes(request.serviceAccountId)) {
      throw invalidParameter("The service account is not one of the job's", { parameter: "service_account_id", value: request.serviceAccountId });
    }
    let secretId = request.secretId;
    if (secretId) validateId("secret_id", secretId);
    else secretId = (await this.identity.serviceAccount(request.serviceAccountId, authorization))?.secretId ?? "";
    return this.createTask(scope, { jobId: job.jobId, serviceAccountId: request.serviceAccountId, secretId, status });
  }

  /** A task for one account of a running job (JobTaskService.Create). */
  async createTask(scope: TenantScope, input: NewTask): Promise<JobTaskRow> {
    return this.tasks.inTransaction((tx) => this.createTaskIn(tx, scope, input));
  }

  /**
   * The same inside the caller's transaction: the launcher creates a job and its pull tasks in one,
   * so a process that dies meanwhile leaves neither (a job without its tasks would never run, and
   * its collector's schedule would skip every fire until the job timed out).
   */
  async createTaskIn(tx: Tx, scope: TenantScope, input: NewTask): Promise<JobTaskRow> {
    // The creating call's trace: a replica that claims the task later runs it in that trace.
    const traceparent = currentTraceparent() ?? null;
    const job = await this.tasks.lockJob(tx, scope, input.jobId);
    if (isFinal(job.status)) throw illegalTransition(`The job is already ${job.status}`, { job_id: job.jobId, status: job.status });
    const task = await this.tasks.insertTask(tx, job, { serviceAccountId: input.serviceAccountId, secretId: input.secretId, status: input.status, pull: input.pull ?? false, traceparent });
    await this.tasks.rollUp(tx, job, task, "created");
    return task;
  }

  /** Seed 000 "Update JobTask Progress": moves the task (and its job) to IN_PROGRESS. */
  async updateProgress(caller: Caller, request: { jobTaskId: string; status: RequestedStatus; progress: number; updatedAt: Date | undefined }): Promise<JobTaskRow> {
    const id = requireTaskId(request.jobTaskId);
    const requested = statusName(request.status);
    if (requested !== "CREATED" && requested !== "IN_PROGRESS") {
      throw invalidParameter("UpdateProgress takes IN_PROGRESS; use Complete to end a task", { parameter: "status", value: requested });
    }
    if (!Number.isInteger(request.progress) || request.progress < 0 || request.progress > 100) {
      throw invalidParameter("progress must be between 0 and 100", { parameter: "progress", value: String(request.progress) });
    }
    return this.tasks.inTransaction(async (tx) => {
      const { task, job } = await this.writableTask(tx, caller, id);
      const at = instant("updated_at", request.updatedAt);
      if (isFinal(task.status)) throw illegalTransition(`The task is already ${task.status}`, { job_task_id: task.jobTaskId, status: task.status });
      const start = requested === "IN_PROGRESS" || request.progress > 0;
      const updated = await this.tasks.writeProgress(tx, task.jobTaskId, { status: start ? "IN_PROGRESS" : (task.status as Status), progress: request.progress, at });
      await this.tasks.rollUp(tx, job, updated, "progressed");
      return updated;
    });
  }

  /**
   * Seed 000 "Complete JobTask": ends the task with a final status and its counters and rolls it up
   * into its job. Repeating the same completion returns the stored task; completing with another
   * final status is an illegal transition.
   */
  async complete(caller: Caller, request: CompleteRequest): Promise<JobTaskRow> {
    const id = requireTaskId(request.jobTaskId);
    const status = statusName(request.status);
    if (!FINAL_STATUSES.includes(status)) {
      throw invalidParameter("Complete takes a final status: FINISHED, FAILURE, CANCELED or TIMEOUT", { parameter: "status", value: status });
    }
    return this.tasks.inTransaction(async (tx) => {
      const locked = await this.writableTask(tx, caller, id);
      const completion: Completion = {
        status,
        createdCount: counter("created_count", request.createdCount),
        updatedCount: counter("updated_count", request.updatedCount),
        deletedCount: counter("deleted_count", request.deletedCount),
        errorCount: counter("error_count", request.errorCount),
        disconnectedCount: counter("disconnected_count", request.disconnectedCount),
        finishedAt: instant("finished_at", request.finishedAt),
      };
      return this.completeLocked(tx, locked, completion);
    });
  }

  /** The pull loop's end of a task, by the replica holding its lease. */
  async completePull(scope: TenantScope, jobTaskId: string, completion: Completion): Promise<JobTaskRow> {
    return this.tasks.inTransaction(async (tx) => this.completeLocked(tx, await this.lockedTask(tx, scope, jobTaskId), completion));
  }

  /**
   * The pull loop's running report: checkpoint, progress, counters as of the checkpoint, new error
   * lines (capped), in one transaction, by the replica holding the lease only.
   */
  async reportPull(scope: TenantScope, jobTaskId: string, report: PullReport): Promise<JobTaskRow> {
    return this.tasks.inTransaction(async (tx) => {
      const { task, job } = await this.lockedTask(tx, scope, jobTaskId);
      if (isFinal(task.status)) return task;
      if (task.leaseOwner !== report.leaseOwner) throw new LeaseLostError(jobTaskId);
      const updated = await this.tasks.writePullProgress(tx, task.jobTaskId, {
        checkpoint: report.checkpoint,
        progress: Math.max(task.progress, report.progress),
        createdCount: report.createdCount,
        updatedCount: report.updatedCount,
        errorCount: report.errorCount,
        errors: withErrors(task.errors, report.newErrors),
      });
      await this.tasks.rollUp(tx, job, updated, "progressed");
      return updated;
    });
  }

  /**
   * Fails pull tasks whose plugin stopped answering: IN_PROGRESS with no report for `idleMs`. The
   * task's error lines end with why, naming the plugin's last error; its job rolls up (FAILURE when
   * it was the last task), and the replica streaming it stops at its next lease renewal. Each task is
   * re-checked under its lock, so a task that reported meanwhile, or that another replica failed, is left.
   */
  async failSilentPullTasks(idleMs: number, now = new Date(), limit = 100): Promise<JobTaskRow[]> {
    const before = new Date(now.getTime() - idleMs);
    const failed: JobTaskRow[] = [];
    for (const candidate of await this.tasks.silentPullTasks(before, limit)) {
      const row = await this.tasks.inTransaction(async (tx) => {
        const locked = await this.tasks.lockTask(tx, { domainId: candidate.domainId }, candidate.jobTaskId);
        if (!locked || locked.task.status !== "IN_PROGRESS" || locked.task.updatedAt.getTime() >= before.getTime()) return undefined;
        const { task } = locked;
        const lastError = task.errors.at(-1);
        const reason = `ERROR_TIMEOUT: the plugin stopped answering (nothing for ${Math.round(idleMs / 1000)} s)${lastError ? `; its last error: ${lastError}` : ""}`;
        return this.completeLocked(tx, locked, {
          status: "FAILURE",
          createdCount: task.createdCount,
          updatedCount: task.updatedCount,
          deletedCount: task.deletedCount,
          errorCount: task.errorCount,
          disconnectedCount: task.disconnectedCount,
          finishedAt: now,
          errors: [storedText(reason)],
        });
      });
      if (row) failed.push(row);
    }
    return failed;
  }

  /** Adds what cloud-service's end-of-collection sweep did to the task's counters (in `tx` when given: the caller commits). */
  async addSweepResult(domainId: string, jobTaskId: string, counts: { disconnectedCount: number; deletedCount: number }, tx?: Tx): Promise<void> {
    const apply = async (db: Tx) => {
      const locked = await this.tasks.lockTask(db, { domainId }, jobTaskId);
      if (!locked) return;
      const updated = await this.tasks.addSweepCounts(db, jobTaskId, counts);
      await this.tasks.rollUp(db, locked.job, updated, "updated");
    };
    if (tx) return apply(tx);
    await this.tasks.inTransaction(apply);
  }

  private async lockedTask(tx: Tx, scope: TenantScope, jobTaskId: string): Promise<LockedTask> {
    const locked = await this.tasks.lockTask(tx, scope, jobTaskId);
    if (!locked) throw notFound("Job task not found", { job_task_id: jobTaskId });
    return locked;
  }

  /** The task, locked, once the caller may write it. */
  private async writableTask(tx: Tx, caller: Caller, jobTaskId: string): Promise<LockedTask> {
    const locked = await this.lockedTask(tx, tenantScope(caller), jobTaskId);
    requireWorkspaceAccess(caller, locked.task.workspaceId, "write");
    return locked;
  }

  private async completeLocked(tx: Tx, { task, job }: LockedTask, completion: Completion): Promise<JobTaskRow> {
    if (completion.pull && !isFinal(task.status) && task.leaseOwner !== completion.pull.leaseOwner) throw new LeaseLostError(task.jobTaskId);
    if (isFinal(task.status)) {
      if (task.status !== completion.status) {
        throw illegalTransition(`The task is already ${task.status}`, { job_task_id: task.jobTaskId, status: task.status });
      }
      return task;
    }
    const updated = await this.tasks.writeCompletion(tx, task.jobTaskId, {
      status: completion.status,
      progress: completion.status === "FINISHED" ? 100 : task.progress,
      createdCount: completion.createdCount,
      updatedCount: completion.updatedCount,
      deletedCount: completion.deletedCount,
      errorCount: completion.errorCount,
      disconnectedCount: completion.disconnectedCount,
      errors: withErrors(task.errors, completion.errors ?? []),
      finishedAt: completion.finishedAt,
      checkpoint: completion.pull?.checkpoint,
    });
    await this.tasks.rollUp(tx, job, updated, "completed");
    return updated;
  }
}
