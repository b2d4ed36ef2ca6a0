import { scopeOf } from "../grpc/grpc-mapping";
import type { ServiceImpl } from "@connectrpc/connect";
import { WorkerService } from "@cloudforet/proto/cloudforet/orchestration/v1/worker_pb";
import { taskMessage } from "./to-message";
import type { Workers } from "./workers";

/** The worker protocol; a long poll ends when the client cancels the call (ctx.signal). */
export function workerHandlers(workers: Workers): ServiceImpl<typeof WorkerService> {
  return {
    async pollTasks(req, ctx) {
      const request = { handlerName: req.handlerName, workerId: req.workerId, limit: req.limit, waitMs: req.waitMs };
      return { tasks: (await workers.poll(scopeOf(ctx), request, ctx.signal)).map(taskMessage) };
    },
    async completeTask(req, ctx) {
      await workers.complete(scopeOf(ctx), req.taskId, { workerId: req.workerId, claimEpoch: req.claimEpoch }, req.output);
      return {};
    },
    async failTask(req, ctx) {
      await workers.fail(scopeOf(ctx), req.taskId, { workerId: req.workerId, claimEpoch: req.claimEpoch }, req.message, req.retryable);
      return {};
    },
    async heartbeatTask(req, ctx) {
      await workers.heartbeat(scopeOf(ctx), req.taskId, { workerId: req.workerId, claimEpoch: req.claimEpoch });
      return {};
    },
  };
}
