import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { notFound } from "@cloudforet/errors";
import { JobTask_Status, JobTaskService } from "@cloudforet/proto/cloudforet/inventory/v1/job_task_pb";
import { callerOf } from "@cloudforet/runtime";
import type { Status } from "../jobs/status";
import { requireTaskId, type JobTasks, type RequestedStatus } from "./job-tasks";
import { taskCreatedMessage, taskListMessage, taskMessage } from "./to-message";
import { tenantScope } from "@cloudforet/query";

/** The status name of a request's enum value (the domain refuses unknown numbers). */
const requested = (value: JobTask_Status): RequestedStatus => ({ name: JobTask_Status[value], value });

/** A request's time as a Date; the domain refuses absurd ones. */
const dateOf = (value: Timestamp | undefined): Date | undefined => (value ? timestampDate(value) : undefined);

const authorizationOf = (ctx: HandlerContext) => ctx.requestHeader.get("authorization");

export function jobTaskHandlers(tasks: JobTasks): ServiceImpl<typeof JobTaskService> {
  return {
    async create(req, ctx) {
      const task = await tasks.create(callerOf(ctx), authorizationOf(ctx), {
        jobId: req.jobId,
        serviceAccountId: req.serviceAccountId,
        secretId: req.secretId,
        status: requested(req.status),
      });
      return taskCreatedMessage(task);
    },

    async updateProgress(req, ctx) {
      const task = await tasks.updateProgress(callerOf(ctx), {
        jobTaskId: req.jobTaskId,
        status: requested(req.status),
        progress: req.progress,
        updatedAt: dateOf(req.updatedAt),
      });
      return { jobTaskId: task.jobTaskId, status: JobTask_Status[task.status as Status], progress: task.progress };
    },

    async complete(req, ctx) {
      const task = await tasks.complete(callerOf(ctx), {
        jobTaskId: req.jobTaskId,
        status: requested(req.status),
        createdCount: req.createdCount,
        updatedCount: req.updatedCount,
        deletedCount: req.deletedCount,
        errorCount: req.errorCount,
        disconnectedCount: req.disconnectedCount,
        finishedAt: dateOf(req.finishedAt),
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
      const task = await tasks.get(tenantScope(callerOf(ctx)), id);
      if (!task) throw notFound("Job task not found", { job_task_id: id });
      return taskMessage(task);
    },

    async list(req, ctx) {
      const { results, total_count } = await tasks.list(tenantScope(callerOf(ctx)), req.query ?? {});
      return { results: results.map(taskListMessage), totalCount: total_count };
    },
  };
}
