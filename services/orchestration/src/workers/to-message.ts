import type { JsonObject } from "@bufbuild/protobuf";
import { WorkerTask_State } from "@cloudforet/proto/cloudforet/orchestration/v1/worker_pb";
import type { WorkerTaskRow } from "../db/schema";
import { ts } from "../grpc/grpc-mapping";

export function taskMessage(row: WorkerTaskRow) {
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
