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
    claimEpoch: row.claimEpoch,
  };
}

/** The worker protocol; a long poll ends when the client cancels the call (ctx.signal). */
export function workerHandlers(workers: Workers): ServiceImpl<typeof WorkerService> {
  return {
    async pollTasks(req, ctx) {
      const request = { handlerName: req.handlerName, workerId: req.workerId, limit: req.limit, waitMs: req.waitMs };
      return { tasks: (await workers.poll(callerOf(ctx).domainId, request, ctx.signal)).map(taskMessage) };
    },
    async completeTask(req, ctx) {
      await workers.complete(callerOf(ctx).domainId, req.taskId, { workerId: req.workerId, claimEpoch: req.claimEpoch }, req.output);
      return {};
    },
    async failTask(req, ctx) {
      await workers.fail(callerOf(ctx).domainId, req.taskId, { workerId: req.workerId, claimEpoch: req.claimEpoch }, req.message, req.retryable);
      return {};
    },
    async heartbeatTask(req, ctx) {
      await workers.heartbeat(callerOf(ctx).domainId, req.taskId, { workerId: req.workerId, claimEpoch: req.claimEpoch });
      return {};
    },
  };
}
