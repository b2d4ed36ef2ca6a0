import type { JsonObject } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import type { HandlerContext } from "@connectrpc/connect";
import { invalidParameter, permissionDenied } from "@cloudforet/errors";
import { TaskInstance_Priority, TaskInstance_State } from "@cloudforet/proto/cloudforet/orchestration/v1/instance_pb";
import { callerOf } from "@cloudforet/runtime";
import type { BlockOutputRow, InstanceRow, SequenceRow } from "../db/schema";
import type { InstanceState } from "../instances/rules";

/** The caller's domain is the tenant: empty means it, any other is ERROR_PERMISSION_DENIED. */
export function tenantOf(ctx: HandlerContext, given: string | undefined): string {
  const { domainId } = callerOf(ctx);
  if (given && given !== domainId) throw permissionDenied("tenant_id is not the caller's domain", { tenant_id: given });
  return domainId;
}

export const ts = (at: Date | null | undefined): Timestamp | undefined => (at ? timestampFromDate(at) : undefined);
export const dateOf = (at: Timestamp | undefined): Date | undefined => (at ? timestampDate(at) : undefined);

export function stateName(value: TaskInstance_State, parameter: string): InstanceState {
  const name = TaskInstance_State[value];
  if (name === undefined) throw invalidParameter(`${parameter} is not a state`, { parameter, value: String(value) });
  return name.toLowerCase() as InstanceState;
}

export const stateEnum = (state: string) => TaskInstance_State[state.toUpperCase() as keyof typeof TaskInstance_State];
export const priorityEnum = (priority: string) => TaskInstance_Priority[priority.toUpperCase() as keyof typeof TaskInstance_Priority];
export const priorityName = (value: TaskInstance_Priority) => TaskInstance_Priority[value]?.toLowerCase() ?? String(value);

export function sequenceMessage(row: SequenceRow) {
  return {
    id: row.id,
    tenantId: row.tenantId,
    namespace: row.namespace,
    name: row.name,
    version: row.version,
    blocks: row.blocks as unknown as JsonObject[],
    createdAt: ts(row.createdAt),
  };
}

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
