import type { InstanceRow } from "../db/schema";

/** An instance row as raw SQL returns it (`returning i.*`, or `to_jsonb`) → the Drizzle row shape. */
export function instanceFromSql(row: Record<string, unknown>): InstanceRow {
  const at = (v: unknown) => (v === null || v === undefined ? null : v instanceof Date ? v : new Date(String(v)));
  const json = <T>(v: unknown): T => (typeof v === "string" ? JSON.parse(v) : v) as T;
  return {
    id: row.id as string,
    sequenceId: row.sequence_id as string,
    domainId: row.domain_id as string,
    tenantId: row.tenant_id as string,
    namespace: row.namespace as string,
    state: row.state as string,
    nextFireAt: at(row.next_fire_at),
    priority: row.priority as string,
    priorityRank: Number(row.priority_rank),
    timezone: row.timezone as string,
    metadata: json(row.metadata),
    context: json(row.context),
    execution: json(row.execution),
    kv: json(row.kv),
    concurrencyKey: (row.concurrency_key as string | null) ?? null,
    maxConcurrency: row.max_concurrency === null || row.max_concurrency === undefined ? null : Number(row.max_concurrency),
    idempotencyKey: (row.idempotency_key as string | null) ?? null,
    lockedBy: (row.locked_by as string | null) ?? null,
    leaseExpiresAt: at(row.lease_expires_at),
    needsAttention: Boolean(row.needs_attention),
    createdAt: at(row.created_at)!,
    updatedAt: at(row.updated_at)!,
  };
}
