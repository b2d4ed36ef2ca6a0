import { callerOf } from "@cloudforet/runtime";
import type { JsonObject } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { WorkerService, WorkerTask_State } from "@cloudforet/proto/cloudforet/orchestration/v1/worker_pb";
import type { WorkerTaskRow } from "../db/schema";
import type { Workers } from "../workers/workers";
import { ts } from "./grpc-mapping";

function taskMessage(row: WorkerTaskRow) {
  return {
    id: row.id,
    instanceId: row.instanceId,
    blockId: row.blockId,
    handlerName: row.handlerName,
    params: row.params as JsonObject,
    context: row.context as JsonObject,
    attempt: row.attempt,
    timeoutMs: row.timeoutMs,
    state: WorkerTask_State[row.state.toUpperCase() as keyof typeof WorkerTask_State],
    workerId: row.workerId ?? undefined,
    claimedAt: ts(row.claimedAt),
    heartbeatAt: ts(row.heartbeatAt),
    completedAt: ts(row.completedAt),
    output: (row.output ?? undefined) as JsonObject | undefined,
    errorMessage: row.errorMessage ?? undefined,
    errorRetryable: row.errorRetryable ?? undefined,
    createdAt: ts(row.createdAt),
  };
}

/** Minimal worker protocol (poll, complete, fail, heartbeat); long polls and the reaper come with the workers issue. */
export function workerHandlers(workers: Workers): ServiceImpl<typeof WorkerService> {
  return {
    async pollTasks(req, ctx) {
      return { tasks: (await workers.poll(callerOf(ctx).domainId, req.handlerName, req.workerId, req.limit)).map(taskMessage) };
    },
    async completeTask(req, ctx) {
      await workers.complete(callerOf(ctx).domainId, req.taskId, req.workerId, req.output);
      return {};
    },
    async failTask(req, ctx) {
      await workers.fail(callerOf(ctx).domainId, req.taskId, req.workerId, req.message, req.retryable);
      return {};
    },
    async heartbeatTask(req, ctx) {
      await workers.heartbeat(callerOf(ctx).domainId, req.taskId, req.workerId);
      return {};
    },
  };
}
