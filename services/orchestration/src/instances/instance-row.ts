import { dateOf, jsonOf } from "../db/raw-values";
import type { InstanceRow } from "../db/schema";

/** An instance row as raw SQL returns it (`returning i.*`, or `to_jsonb`) → the Drizzle row shape. */
export function instanceFromSql(row: Record<string, unknown>): InstanceRow {
  return {
    id: row.id as string,
    sequenceId: row.sequence_id as string,
    domainId: row.domain_id as string,
    tenantId: row.tenant_id as string,
    namespace: row.namespace as string,
    state: row.state as string,
    nextFireAt: dateOf(row.next_fire_at),
    priority: row.priority as string,
    priorityRank: Number(row.priority_rank),
    timezone: row.timezone as string,
    metadata: jsonOf(row.metadata),
    context: jsonOf(row.context),
    execution: jsonOf(row.execution),
    kv: jsonOf(row.kv),
    concurrencyKey: (row.concurrency_key as string | null) ?? null,
    maxConcurrency: row.max_concurrency === null || row.max_concurrency === undefined ? null : Number(row.max_concurrency),
    idempotencyKey: (row.idempotency_key as string | null) ?? null,
    lockedBy: (row.locked_by as string | null) ?? null,
    leaseExpiresAt: dateOf(row.lease_expires_at),
    needsAttention: Boolean(row.needs_attention),
    createdAt: dateOf(row.created_at)!,
    updatedAt: dateOf(row.updated_at)!,
  };
}
