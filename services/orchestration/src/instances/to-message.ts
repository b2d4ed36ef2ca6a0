import type { JsonObject } from "@bufbuild/protobuf";
import { TaskInstance_Priority, TaskInstance_State } from "@cloudforet/proto/cloudforet/orchestration/v1/instance_pb";
import type { BlockOutputRow, InstanceRow } from "../db/schema";
import { ts } from "../grpc/grpc-mapping";

export const stateEnum = (state: string) => TaskInstance_State[state.toUpperCase() as keyof typeof TaskInstance_State];
export const priorityEnum = (priority: string) => TaskInstance_Priority[priority.toUpperCase() as keyof typeof TaskInstance_Priority];

export function instanceMessage(row: InstanceRow) {
  return {
    id: row.id,
    sequenceId: row.sequenceId,
    tenantId: row.tenantId,
    namespace: row.namespace,
    state: stateEnum(row.state),
    nextFireAt: ts(row.nextFireAt),
    priority: priorityEnum(row.priority),
    timezone: row.timezone,
    metadata: row.metadata as JsonObject,
    context: row.context as JsonObject,
    concurrencyKey: row.concurrencyKey ?? undefined,
    maxConcurrency: row.maxConcurrency ?? undefined,
    idempotencyKey: row.idempotencyKey ?? undefined,
    createdAt: ts(row.createdAt),
    updatedAt: ts(row.updatedAt),
  };
}

export function outputMessage(row: BlockOutputRow) {
  return {
    id: row.id,
    instanceId: row.instanceId,
    blockId: row.blockId,
    output: (row.output ?? undefined) as JsonObject | undefined,
    outputRef: row.outputRef ?? undefined,
    outputSize: row.outputSize,
    attempt: row.attempt,
    createdAt: ts(row.createdAt),
  };
}
