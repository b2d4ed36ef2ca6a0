import { randomUUID } from "node:crypto";
import { and, asc, desc, eq, notInArray, sql } from "drizzle-orm";
import type { DatabaseExecutor } from "@cloudforet/db";
import { blockOutputs, instances, sequences } from "../../db/schema";
import type { InstanceRepository } from "../../instances/repository";
import { enqueueSignal } from "../../signals/repository";
import { emptyExecution, isTerminal, type ExecutionState } from "../execution-state";
import { completed, isObject, permanent, type StepHandler, type StepInvocation, type StepOutcome } from "./handler";

/** Metadata `source` of a child instance started by a sub_sequence block. */
export const SUB_SEQUENCE_SOURCE = "sub_sequence";
/** How often a waiting parent looks at its child even without a wake-up (a lost one). */
const RECHECK_MS = 5_000;

const TERMINAL = new Set(["completed", "failed", "cancelled"]);

/** The sequence a sub_sequence names, in the parent's tenant and namespace: the given version, or the latest. */
async function findSequence(tx: DatabaseExecutor, step: StepInvocation, name: string, version: number | undefined) {
  const { domainId, tenantId, namespace } = step.instance;
  const [row] = await tx
    .select({ id: sequences.id, version: sequences.version })
    .from(sequences)
    .where(and(eq(sequences.domainId, domainId), eq(sequences.tenantId, tenantId), eq(sequences.namespace, namespace), eq(sequences.name, name), version === undefined ? undefined : eq(sequences.version, version)))
    .orderBy(desc(sequences.version))
    .limit(1);
  return row;
}

/** Starts the child: scheduled now, in the parent's tenant, namespace, priority and time zone, linked by metadata. */
async function startChild(tx: DatabaseExecutor, step: StepInvocation, sequenceId: string, input: Record<string, unknown>): Promise<string> {
  const id = randomUUID();
  const { instance } = step;
  const [parent] = await tx.select({ priority: instances.priority, priorityRank: instances.priorityRank }).from(instances).where(eq(instances.id, instance.id));
  await tx.insert(instances).values({
    id,
    sequenceId,
    domainId: instance.domainId,
    tenantId: instance.tenantId,
    namespace: instance.namespace,
    state: "scheduled",
    nextFireAt: new Date(),
    priority: parent?.priority ?? "normal",
    priorityRank: parent?.priorityRank ?? 1,
    timezone: instance.timezone,
    metadata: { source: SUB_SEQUENCE_SOURCE, parent_instance_id: instance.id, parent_block_id: step.blockId },
    context: { data: input },
    execution: emptyExecution(),
    kv: {},
  });
  return id;
}

/** The child's latest output of each block, by block id: the sub_sequence block's own output. */
async function childOutputs(tx: DatabaseExecutor, childId: string): Promise<Record<string, unknown>> {
  const rows = await tx
    .select({ blockId: blockOutputs.blockId, output: blockOutputs.output })
    .from(blockOutputs)
    .where(eq(blockOutputs.instanceId, childId))
    .orderBy(asc(blockOutputs.createdAt));
  const outputs: Record<string, unknown> = {};
  for (const row of rows) outputs[row.blockId] = row.output;
  return outputs;
}

const waiting = (childId: string, now: number): StepOutcome => ({ kind: "suspended", data: { child_instance_id: childId }, until: now + RECHECK_MS, external: true });

/**
 * Runs a `sub_sequence` block (the engine's SubSequence): the first run starts a child instance of
 * the named sequence with context.data = input, in the checkpoint's transaction (so exactly one
 * child exists once the step is recorded waiting); the parent then waits — woken when the child
 * ends (InstancePass) — and completes with the child's outputs, or fails when the child fails or
 * is cancelled. Cancelling the parent cancels the child (InstancePass).
 */
export const subSequence: StepHandler = {
  effects: "transactional",
  wakesInstances: true,
  async run(step) {
    const { params, data, now, tx } = step;
    const childId = typeof data.child_instance_id === "string" ? data.child_instance_id : undefined;
    if (!childId) {
      const name = params.sequence_name;
      const version = typeof params.version === "number" ? params.version : undefined;
      if (typeof name !== "string" || name === "") return permanent("sub_sequence: `sequence_name` is required");
      const sequence = await findSequence(tx!, step, name, version);
      if (!sequence) return permanent(`sub_sequence: sequence "${name}"${version === undefined ? "" : ` version ${version}`} not found in namespace ${step.instance.namespace}`);
      return waiting(await startChild(tx!, step, sequence.id, isObject(params.input) ? params.input : {}), now);
    }
    const [child] = await tx!.select({ state: instances.state, context: instances.context }).from(instances).where(eq(instances.id, childId));
    if (!child) return permanent(`sub_sequence: child instance ${childId} vanished`);
    if (!TERMINAL.has(child.state)) return waiting(childId, now);
    if (child.state === "completed") return completed(await childOutputs(tx!, childId));
    const runtime = isObject(child.context) && isObject(child.context.runtime) ? child.context.runtime : {};
    const reason = typeof runtime.error === "string" ? `: ${runtime.error}` : "";
    return permanent(`sub_sequence: child instance ${childId} ${child.state}${reason}`);
  },
};

/** The children still running of an instance's sub_sequence blocks. */
export function runningChildren(exec: ExecutionState): string[] {
  return Object.values(exec.nodes).flatMap((node) => (typeof node.data?.child_instance_id === "string" && !isTerminal(node.status) ? [node.data.child_instance_id] : []));
}

/** The parent was cancelled: so are its running children (a cancel signal each, taken in by their engines). */
export async function cancelChildren(exec: DatabaseExecutor, instances: InstanceRepository, childIds: string[]): Promise<void> {
  for (const childId of childIds) {
    await enqueueSignal(exec, childId, "cancel", null);
    await instances.markNeedsAttention(childId, exec, { waitingToScheduled: true });
  }
}

/**
 * Instances cancelled by a state change rather than by their engine (PATCH state, bulk state): their
 * running sub_sequence children are cancelled in the same transaction, as the engine does on a cancel.
 */
export async function cancelChildrenOfCancelled(exec: DatabaseExecutor, instanceRows: InstanceRepository, parentIds: string[]): Promise<void> {
  if (parentIds.length === 0) return;
  const children = await exec
    .select({ id: instances.id })
    .from(instances)
    .where(
      and(
        sql`${instances.metadata} ->> 'source' = ${SUB_SEQUENCE_SOURCE}`,
        sql`${instances.metadata} ->> 'parent_instance_id' in (${sql.join(parentIds.map((id) => sql`${id}`), sql`, `)})`,
        notInArray(instances.state, [...TERMINAL]),
      ),
    );
  await cancelChildren(exec, instanceRows, children.map((c) => c.id));
}

/** The parent of an instance started by a sub_sequence block, or undefined. */
export function subSequenceParentOf(metadata: unknown): string | undefined {
  return isObject(metadata) && metadata.source === SUB_SEQUENCE_SOURCE && typeof metadata.parent_instance_id === "string" ? metadata.parent_instance_id : undefined;
}
