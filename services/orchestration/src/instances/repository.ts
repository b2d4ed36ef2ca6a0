import { queryRows } from "@cloudforet/db";
import { and, asc, count, desc, eq, inArray, sql, type SQL } from "drizzle-orm";
import type { Database, DatabaseExecutor } from "@cloudforet/db";
import { ownerWhere, type Owner } from "../access/tenants";
import { blockOutputs, instances, type BlockOutputRow, type InstanceRow } from "../db/schema";
import { emptyExecution } from "../engine/execution-state";
import { normalizeContext, type InstanceState } from "./rules";

export type NewInstanceRow = typeof instances.$inferInsert;

export interface InstanceFilter {
  /** Absent: every domain (the engine alone, without token verification). */
  domainId?: string;
  /** Absent: every tenant of the domain. */
  tenantId?: string;
  namespace?: string;
  sequenceId?: string;
  states?: InstanceState[];
}

export interface Page {
  offset: number;
  limit: number;
}

const INSERT_CHUNK = 1_000;

/**
 * What most new instances hold: the columns' values when a caller gives none (a context is
 * normalized to its four sections; see normalizeContext).
 */
const USUAL = {
  priority: "normal",
  priorityRank: 1,
  timezone: "UTC",
  metadata: "{}",
  context: JSON.stringify(normalizeContext(undefined, "context")),
  execution: JSON.stringify(emptyExecution()),
  kv: "{}",
} as const;

const USUAL_VALUES = new Map<string, unknown>([USUAL.metadata, USUAL.context, USUAL.execution, USUAL.kv].map((json) => [json, JSON.parse(json)]));

/** `value`, or undefined when it equals the JSON `usual` (the statement fills that in). */
function unlessUsual(value: unknown, usual: string): unknown {
  return sameJson(value, USUAL_VALUES.get(usual)) ? undefined : value;
}

/** Deep equality of two JSON values (object keys in any order). */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object" || Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === (b as unknown[]).length && a.every((item, i) => sameJson(item, (b as unknown[])[i]));
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => Object.hasOwn(b, key) && sameJson((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]));
}

/**
 * The INSERT of up to INSERT_CHUNK rows, skipping those whose idempotency key the tenant already
 * used. The rows travel as one JSON parameter (jsonb_to_recordset): building a 1,000-row
 * multi-VALUES insert costs more than running it. A value equal to its column's usual one (no
 * metadata, an empty context, a fresh execution…) is left out of the JSON and filled in by the
 * statement: most instances are created that way, and parsing those values a thousand times was a
 * third of a batch create's time in the database.
 */
function insertStatement(rows: NewInstanceRow[]): SQL {
  const json = rows.map((row) => ({
    id: row.id,
    sequence_id: row.sequenceId,
    domain_id: row.domainId,
    tenant_id: row.tenantId,
    namespace: row.namespace,
    state: row.state,
    next_fire_at: row.nextFireAt ? (row.nextFireAt as Date).toISOString() : null,
    priority: row.priority === USUAL.priority ? undefined : row.priority,
    priority_rank: row.priorityRank === USUAL.priorityRank ? undefined : row.priorityRank,
    timezone: row.timezone === USUAL.timezone ? undefined : row.timezone,
    metadata: unlessUsual(row.metadata, USUAL.metadata),
    context: unlessUsual(row.context, USUAL.context),
    execution: unlessUsual(row.execution, USUAL.execution),
    kv: unlessUsual(row.kv, USUAL.kv),
    concurrency_key: row.concurrencyKey ?? undefined,
    max_concurrency: row.maxConcurrency ?? undefined,
    idempotency_key: row.idempotencyKey ?? undefined,
  }));
  return sql`insert into ${instances} (id, sequence_id, domain_id, tenant_id, namespace, state, next_fire_at, priority, priority_rank, timezone,
                                       metadata, context, execution, kv, concurrency_key, max_concurrency, idempotency_key)
             select x.id, x.sequence_id, x.domain_id, x.tenant_id, x.namespace, x.state, x.next_fire_at,
                    coalesce(x.priority, ${USUAL.priority}), coalesce(x.priority_rank, ${USUAL.priorityRank}), coalesce(x.timezone, ${USUAL.timezone}),
                    coalesce(x.metadata, ${USUAL.metadata}::jsonb), coalesce(x.context, ${USUAL.context}::jsonb),
                    coalesce(x.execution, ${USUAL.execution}::jsonb), coalesce(x.kv, ${USUAL.kv}::jsonb),
                    x.concurrency_key, x.max_concurrency, x.idempotency_key
             from jsonb_to_recordset(${JSON.stringify(json)}::jsonb) as x(
               id uuid, sequence_id uuid, domain_id text, tenant_id text, namespace text, state text, next_fire_at timestamptz, priority text,
               priority_rank smallint, timezone text, metadata jsonb, context jsonb, execution jsonb, kv jsonb,
               concurrency_key text, max_concurrency int, idempotency_key text)
             on conflict do nothing`;
}

export function filterCondition(filter: InstanceFilter): SQL | undefined {
  return and(
    ownerWhere(instances, filter),
    filter.namespace !== undefined ? eq(instances.namespace, filter.namespace) : undefined,
    filter.sequenceId !== undefined ? eq(instances.sequenceId, filter.sequenceId) : undefined,
    filter.states && filter.states.length > 0 ? inArray(instances.state, filter.states) : undefined,
  );
}

export class InstanceRepository {
  constructor(readonly db: Database) {}

  /** Inserts rows, skipping those whose idempotency key the tenant already used; returns the ids inserted. */
  async insertMany(rows: NewInstanceRow[], exec: DatabaseExecutor = this.db): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
      const inserted = await queryRows<{ id: string }>(exec, sql`${insertStatement(rows.slice(i, i + INSERT_CHUNK))} returning id`);
      ids.push(...inserted.map((r) => r.id));
    }
    return ids;
  }

  /**
   * insertMany counting instead of listing what it inserted (a batch create answers a count: a
   * thousand ids back cost the service more than the count), as one statement when the rows fit
   * one, else in a transaction: all or nothing either way.
   */
  async insertAll(rows: NewInstanceRow[]): Promise<number> {
    const insert = async (exec: DatabaseExecutor) => {
      let count = 0;
      for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
        const [row] = await queryRows<{ n: number }>(exec, sql`with inserted as (${insertStatement(rows.slice(i, i + INSERT_CHUNK))} returning 1) select count(*)::int as n from inserted`);
        count += Number(row?.n ?? 0);
      }
      return count;
    };
    return rows.length <= INSERT_CHUNK ? insert(this.db) : this.db.transaction((tx) => insert(tx));
  }

  async findByIdempotencyKey(owner: Owner, key: string, exec: DatabaseExecutor = this.db): Promise<InstanceRow | undefined> {
    const [row] = await exec
      .select()
      .from(instances)
      .where(and(ownerWhere(instances, owner), eq(instances.idempotencyKey, key)));
    return row;
  }

  async getById(id: string, exec: DatabaseExecutor = this.db, options: { forUpdate?: boolean } = {}): Promise<InstanceRow | undefined> {
    const query = exec.select().from(instances).where(eq(instances.id, id));
    const [row] = options.forUpdate ? await query.for("update") : await query;
    return row;
  }

  async list(filter: InstanceFilter, page: Page, order: "created" | "updated" = "created"): Promise<InstanceRow[]> {
    const by = order === "created" ? instances.createdAt : instances.updatedAt;
    return this.db
      .select()
      .from(instances)
      .where(filterCondition(filter))
      .orderBy(desc(by), desc(instances.id))
      .offset(page.offset)
      .limit(page.limit);
  }

  async count(filter: InstanceFilter): Promise<number> {
    const [row] = await this.db.select({ n: count() }).from(instances).where(filterCondition(filter));
    return Number(row?.n ?? 0);
  }

  async update(id: string, fields: Partial<NewInstanceRow>, exec: DatabaseExecutor = this.db): Promise<InstanceRow | undefined> {
    const [row] = await exec
      .update(instances)
      .set({ ...fields, updatedAt: sql`now()` as unknown as Date })
      .where(eq(instances.id, id))
      .returning();
    return row;
  }

  /**
   * Tells the engine something arrived for the instance (a signal, a worker's result): an unlocked
   * instance becomes due now (a waiting one goes back to scheduled when `wake` says so); a locked
   * one is picked up by its engine at the next checkpoint.
   */
  async markNeedsAttention(id: string, exec: DatabaseExecutor, options: { waitingToScheduled?: boolean } = {}): Promise<void> {
    await exec
      .update(instances)
      .set({
        needsAttention: true,
        nextFireAt: sql`case when ${instances.lockedBy} is null then now() else ${instances.nextFireAt} end` as unknown as Date,
        ...(options.waitingToScheduled ? { state: sql`case when ${instances.state} = 'waiting' then 'scheduled' else ${instances.state} end` as unknown as string } : {}),
      })
      .where(eq(instances.id, id));
  }

  async outputs(instanceId: string): Promise<BlockOutputRow[]> {
    return this.db.select().from(blockOutputs).where(eq(blockOutputs.instanceId, instanceId)).orderBy(asc(blockOutputs.createdAt), asc(blockOutputs.seq));
  }
}
