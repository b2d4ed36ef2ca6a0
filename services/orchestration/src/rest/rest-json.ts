import type { BlockOutputRow, InstanceRow, SequenceRow, WorkerTaskRow } from "../db/schema";

/** RFC 3339 as the gRPC JSON prints it: no fraction when it is zero ("2024-01-15T10:00:00Z"). */
export function timestampJson(at: Date | null | undefined): string | null {
  if (!at) return null;
  return at.toISOString().replace(/\.000Z$/, "Z");
}

export function sequenceJson(row: SequenceRow) {
  return {
    id: row.id,
    tenant_id: row.tenantId,
    namespace: row.namespace,
    name: row.name,
    version: row.version,
    blocks: row.blocks,
    created_at: timestampJson(row.createdAt),
  };
}

/** Seed 002's TaskInstance. */
export function instanceJson(row: InstanceRow) {
  return {
    id: row.id,
    sequence_id: row.sequenceId,
    tenant_id: row.tenantId,
    namespace: row.namespace,
    state: row.state,
    next_fire_at: timestampJson(row.nextFireAt),
    priority: row.priority,
    timezone: row.timezone,
    metadata: row.metadata,
    context: row.context,
    concurrency_key: row.concurrencyKey,
    max_concurrency: row.maxConcurrency,
    idempotency_key: row.idempotencyKey,
    created_at: timestampJson(row.createdAt),
    updated_at: timestampJson(row.updatedAt),
  };
}

export function outputJson(row: BlockOutputRow) {
  return {
    id: row.id,
    instance_id: row.instanceId,
    block_id: row.blockId,
    output: row.output,
    output_ref: row.outputRef,
    output_size: row.outputSize,
    attempt: row.attempt,
    created_at: timestampJson(row.createdAt),
  };
}

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
