import type { WorkerTaskRow } from "../db/schema";
import { timestampJson } from "../rest/rest-json";
import type { RestRouter } from "../rest/rest-server";
import { objectBody, type Secured } from "../rest/route-kit";
import type { Workers } from "./workers";

export function workerTaskJson(row: WorkerTaskRow) {
  return {
    id: row.id,
    instance_id: row.instanceId,
    block_id: row.blockId,
    handler_name: row.handlerName,
    params: row.params,
    context: row.context,
    attempt: row.attempt,
    timeout_ms: row.timeoutMs,
    state: row.state,
    worker_id: row.workerId,
    claimed_at: timestampJson(row.claimedAt),
    heartbeat_at: timestampJson(row.heartbeatAt),
    completed_at: timestampJson(row.completedAt),
    output: row.output,
    error_message: row.errorMessage,
    error_retryable: row.errorRetryable,
    created_at: timestampJson(row.createdAt),
    claim_epoch: row.claimEpoch,
  };
}

/** Seed 002's (minimal) External Workers section. */
export function workerRoutes(router: RestRouter, workers: Workers, secured: Secured): void {
  router
    .on(
      "POST",
      "/workers/tasks/poll",
      secured("WorkerService.PollTasks", async (req, access) => {
        const body = await objectBody(req);
        const scope = access.ownerScope(req.query.get("tenant_id"));
        const request = { handlerName: body.handler_name, workerId: body.worker_id, limit: body.limit, waitMs: body.wait_ms, queueName: body.queue_name ?? body.queue };
        return { status: 200, body: (await workers.poll(scope, request, req.signal)).map(workerTaskJson) };
      }),
    )
    .on(
      "POST",
      "/workers/tasks/:id/complete",
      secured("WorkerService.CompleteTask", async (req, access) => {
        const body = await objectBody(req);
        const scope = access.ownerScope(req.query.get("tenant_id"));
        await workers.complete(scope, req.params.id, { workerId: body.worker_id, claimEpoch: body.claim_epoch }, body.output);
        return { status: 200, body: {} };
      }),
    )
    .on(
      "POST",
      "/workers/tasks/:id/fail",
      secured("WorkerService.FailTask", async (req, access) => {
        const body = await objectBody(req);
        const scope = access.ownerScope(req.query.get("tenant_id"));
        await workers.fail(scope, req.params.id, { workerId: body.worker_id, claimEpoch: body.claim_epoch }, body.message, body.retryable);
        return { status: 200, body: {} };
      }),
    )
    .on(
      "POST",
      "/workers/tasks/:id/heartbeat",
      secured("WorkerService.HeartbeatTask", async (req, access) => {
        const body = await objectBody(req);
        const scope = access.ownerScope(req.query.get("tenant_id"));
        await workers.heartbeat(scope, req.params.id, { workerId: body.worker_id, claimEpoch: body.claim_epoch });
        return { status: 200, body: {} };
      }),
    );
}
