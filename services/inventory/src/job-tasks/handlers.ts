import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { invalidParameter, missingParameter, notFound } from "@cloudforet/errors";
import { JobTask_Status, JobTaskService } from "@cloudforet/proto/cloudforet/inventory/v1/job_task_pb";
import { callerOf } from "@cloudforet/runtime";
import { assertCanWrite, scopeOf } from "../access/scope";
import { validateId } from "../collectors/rules";
import type { IdentityDirectory } from "../identity/identity-directory";
import type { JobStore } from "../jobs/job-store";
import { FINAL_STATUSES, type Status } from "../jobs/status";
import { taskCreatedMessage, taskListMessage, taskMessage } from "../jobs/to-message";

function requireTaskId(id: string): string {
  if (!id) throw missingParameter("job_task_id");
  return validateId("job_task_id", id);
}

/** The status name of a request's enum value; unknown numbers are refused. */
function statusName(value: JobTask_Status): Status {
  const name = JobTask_Status[value] as Status | undefined;
  if (!name) throw invalidParameter("Unknown status", { parameter: "status", value: String(value) });
  return name;
}

function counter(parameter: string, value: number): number {
  if (!Number.isInteger(value) || value < 0) throw invalidParameter(`${parameter} must be a non-negative integer`, { parameter, value: String(value) });
  return value;
}

/** A timestamp from the request, or now; absurd ones are refused rather than stored. */
function instant(parameter: string, value: Timestamp | undefined): Date {
  if (!value) return new Date();
  const date = timestampDate(value);
  const year = date.getUTCFullYear();
  if (Number.isNaN(date.getTime()) || year < 2000 || year > 9999) throw invalidParameter(`${parameter} is not a valid time`, { parameter });
  return date;
}

const authorizationOf = (ctx: HandlerContext) => ctx.requestHeader.get("authorization");

export function jobTaskHandlers(store: JobStore, identity: IdentityDirectory): ServiceImpl<typeof JobTaskService> {
  /** The caller's scope, once the task is known to be theirs to write. */
  async function writableTask(ctx: HandlerContext, jobTaskId: string) {
    const caller = callerOf(ctx);
    const scope = scopeOf(caller);
    const task = await store.getTask(scope, jobTaskId);
    if (!task) throw notFound("Job task not found", { job_task_id: jobTaskId });
    assertCanWrite(caller, task.workspaceId);
    return scope;
  }

  return {
    async create(req, ctx) {
      const caller = callerOf(ctx);
      const scope = scopeOf(caller);
      if (!req.jobId) throw missingParameter("job_id");
      validateId("job_id", req.jobId);
      if (!req.serviceAccountId) throw missingParameter("service_account_id");
      validateId("service_account_id", req.serviceAccountId);
      const status = statusName(req.status);
      if (status !== "CREATED" && status !== "IN_PROGRESS") {
        throw invalidParameter("A task starts CREATED or IN_PROGRESS", { parameter: "status", value: status });
      }
      const job = await store.getJob(scope, req.jobId);
      if (!job) throw notFound("Job not found", { job_id: req.jobId });
      assertCanWrite(caller, job.workspaceId);
      if (!job.serviceAccountIds.includes(req.serviceAccountId)) {
        throw invalidParameter("The service account is not one of the job's", { parameter: "service_account_id", value: req.serviceAccountId });
      }
      let secretId = req.secretId;
      if (secretId) validateId("secret_id", secretId);
      else secretId = (await identity.serviceAccount(req.serviceAccountId, authorizationOf(ctx)))?.secretId ?? "";
      const task = await store.createTask(scope, { jobId: job.jobId, serviceAccountId: req.serviceAccountId, secretId, status });
      return taskCreatedMessage(task);
    },

    async updateProgress(req, ctx) {
      const id = requireTaskId(req.jobTaskId);
      const status = statusName(req.status);
      if (status !== "CREATED" && status !== "IN_PROGRESS") {
        throw invalidParameter("UpdateProgress takes IN_PROGRESS; use Complete to end a task", { parameter: "status", value: status });
      }
      if (!Number.isInteger(req.progress) || req.progress < 0 || req.progress > 100) {
        throw invalidParameter("progress must be between 0 and 100", { parameter: "progress", value: String(req.progress) });
      }
      const scope = await writableTask(ctx, id);
      const task = await store.updateProgress(scope, id, {
        progress: req.progress,
        start: status === "IN_PROGRESS" || req.progress > 0,
        at: instant("updated_at", req.updatedAt),
      });
      return { jobTaskId: task.jobTaskId, status: JobTask_Status[task.status as Status], progress: task.progress };
    },

    async complete(req, ctx) {
      const id = requireTaskId(req.jobTaskId);
      const status = statusName(req.status);
      if (!FINAL_STATUSES.includes(status)) {
        throw invalidParameter("Complete takes a final status: FINISHED, FAILURE, CANCELED or TIMEOUT", { parameter: "status", value: status });
      }
      const scope = await writableTask(ctx, id);
      const { task } = await store.completeTask(scope, id, {
        status,
        createdCount: counter("created_count", req.createdCount),
        updatedCount: counter("updated_count", req.updatedCount),
        deletedCount: counter("deleted_count", req.deletedCount),
        errorCount: counter("error_count", req.errorCount),
        disconnectedCount: counter("disconnected_count", req.disconnectedCount),
        finishedAt: instant("finished_at", req.finishedAt),
      });
      return {
        jobTaskId: task.jobTaskId,
        status: JobTask_Status[task.status as Status],
        createdCount: task.createdCount,
        updatedCount: task.updatedCount,
        deletedCount: task.deletedCount,
        errorCount: task.errorCount,
        success: task.status === "FINISHED",
      };
    },

    async get(req, ctx) {
      const id = requireTaskId(req.jobTaskId);
      const task = await store.getTask(scopeOf(callerOf(ctx)), id);
      if (!task) throw notFound("Job task not found", { job_task_id: id });
      return taskMessage(task);
    },

    async list(req, ctx) {
      const { results, total_count } = await store.listTasks(scopeOf(callerOf(ctx)), req.query ?? {});
      return { results: results.map(taskListMessage), totalCount: total_count };
    },
  };
}
