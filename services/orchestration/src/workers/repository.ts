import { ownerWhere, type OwnerScope } from "../access/tenants";
import { randomUUID } from "node:crypto";
import { and, eq, inArray, sql } from "drizzle-orm";
import type { Database, DatabaseExecutor } from "@cloudforet/db";
import { queryRows } from "@cloudforet/db";
import { blockOutputs, instances, workerTasks, type InstanceRow, type WorkerTaskRow } from "../db/schema";
import { instanceFromSql } from "../instances/instance-row";
import { dateOf } from "../db/raw-values";
import type { EngineEvents } from "../engine/engine-events";

export type NewWorkerTask = typeof workerTasks.$inferInsert;

/** Maps a raw `returning *` (or `to_jsonb`) row of worker_tasks to the Drizzle row shape. */
export function workerTaskFromSql(row: Record<string, unknown>): WorkerTaskRow {
  return {
    id: row.id as string,
    instanceId: row.instance_id as string,
    blockId: row.block_id as string,
    nodeKey: row.node_key as string,
    handlerName: row.handler_name as string,
    params: row.params as Record<string, unknown>,
    context: row.context as Record<string, unknown>,
    attempt: Number(row.attempt),
    timeoutMs: Number(row.timeout_ms),
    state: row.state as string,
    workerId: (row.worker_id as string | null) ?? null,
    claimedAt: dateOf(row.claimed_at),
    heartbeatAt: dateOf(row.heartbeat_at),
    completedAt: dateOf(row.completed_at),
    output: (row.output as Record<string, unknown> | null) ?? null,
    errorMessage: (row.error_message as string | null) ?? null,
    errorRetryable: (row.error_retryable as boolean | null) ?? null,
    createdAt: dateOf(row.created_at)!,
    claimEpoch: Number(row.claim_epoch ?? 0),
    queueName: (row.queue_name as string | null) ?? null,
  };
}

/** Who reports on a task: the worker, and (optionally) the claim it believes it holds. */
export interface TaskHolder {
  workerId: string;
  claimEpoch?: number;
}

/** What a worker reports: the result of the step, or why it failed. */
export type TaskOutcome =
  | { state: "completed"; output: Record<string, unknown>; outputSize: number }
  | { state: "failed"; message: string; retryable: boolean };

/** The task as it was when the report or heartbeat arrived (absent: no such task for the tenant), and whether it was applied. */
export interface ReportResult {
  task?: WorkerTaskRow;
  applied: boolean;
  /** The task's instance as stored, locked by the report's transaction for the engine that asked (`inPlace`). */
  locked?: InstanceRow;
  /** The instance took the result in and moved on in the report's transaction (ReportAdvance): nobody else need hear of it. */
  advanced?: boolean;
}

/** A task the reaper put back in the queue: what the long-pollers waiting for it need to hear. */
export interface ReapedTask {
  id: string;
  /** The wake-up key of the long-pollers: the task's domain. */
  tenantId: string;
  handlerName: string;
}

interface ReapedRow {
  id: string;
  tenant_id: string;
  handler_name: string;
}

/** The task's instance lies in the scope: the domain, and the tenant when one is named (anything when auth is off). */
const ofTenant = (scope: OwnerScope) => {
  const owner = ownerWhere(instances, scope);
  return owner ? sql`instance_id in (select id from ${instances} where ${owner})` : sql`true`;
};

/** The task is claimed by the worker — by the claim it names, when it names one. */
const isHeldBy = (holder: TaskHolder) =>
  sql`state = 'claimed' and worker_id = ${holder.workerId} and ${holder.claimEpoch === undefined ? sql`true` : sql`claim_epoch = ${holder.claimEpoch}`}`;

export class WorkerTaskRepository {
  constructor(
    readonly db: Database,
    /** Hears of new tasks (for the long-poll wake-ups), before the inserting transaction commits. */
    private readonly events?: Pick<EngineEvents, "workerTaskDispatched">,
  ) {}

  async insert(task: NewWorkerTask, exec: DatabaseExecutor = this.db): Promise<void> {
    await exec.insert(workerTasks).values(task);
  }

  /** Queues a step's task for the workers (in the checkpoint's transaction) and reports it. */
  async dispatch(task: NewWorkerTask, wakeKey: string, exec: DatabaseExecutor): Promise<void> {
    await this.insert(task, exec);
    this.events?.workerTaskDispatched(wakeKey, task.handlerName);
  }

  async get(id: string, exec: DatabaseExecutor = this.db, forUpdate = false): Promise<WorkerTaskRow | undefined> {
    const query = exec.select().from(workerTasks).where(eq(workerTasks.id, id));
    const [row] = forUpdate ? await query.for("update") : await query;
    return row;
  }

  /**
   * Claims up to `limit` pending tasks of a handler in a queue (a step's queue_name; null: the
   * default queue); concurrent pollers never get the same task.
   */
  async claim(tenant: OwnerScope, handlerName: string, workerId: string, limit: number, queueName: string | null = null): Promise<WorkerTaskRow[]> {
    const rows = await queryRows(
      this.db,
      sql`with next as (
            select id from ${workerTasks}
            where handler_name = ${handlerName} and state = 'pending' and queue_name is not distinct from ${queueName}::text and ${ofTenant(tenant)}
            order by created_at
            limit ${limit}
            for update skip locked
          )
          update ${workerTasks} t
          set state = 'claimed', worker_id = ${workerId}, claimed_at = now(), heartbeat_at = now(), claim_epoch = t.claim_epoch + 1
          from next where t.id = next.id
          returning t.*`,
    );
    return rows.map(workerTaskFromSql).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  }

  /**
   * Puts claims back in the queue (the long poll that made them was abandoned before it could
   * answer). Only claims still held as made: same worker, same epoch.
   */
  async release(tasks: Pick<WorkerTaskRow, "id" | "claimEpoch">[], workerId: string): Promise<number> {
    if (tasks.length === 0) return 0;
    const claims = JSON.stringify(tasks.map((t) => ({ id: t.id, epoch: t.claimEpoch })));
    const rows = await queryRows(
      this.db,
      sql`update ${workerTasks} t
          set state = 'pending', worker_id = null, claimed_at = null, heartbeat_at = null
          from jsonb_to_recordset(${claims}::jsonb) as c(id uuid, epoch int)
          where t.id = c.id and t.claim_epoch = c.epoch and t.state = 'claimed' and t.worker_id = ${workerId}
          returning t.id`,
    );
    return rows.length;
  }

  /**
   * Returns claimed tasks whose last heartbeat is older than `timeoutMs` to the queue. One
   * conditional UPDATE, judged by the database's clock: replicas running it at once each reap a
   * task at most once between them (the row lock serializes them; the loser's WHERE no longer holds).
   */
  async reap(timeoutMs: number): Promise<ReapedTask[]> {
    return (await this.reapAndLookAhead(timeoutMs)).reaped;
  }

  /**
   * reap, and how long until the next claim still held runs out of heartbeat (ms; undefined when
   * none is claimed — then none can run out sooner than `timeoutMs` from now), in one statement.
   */
  async reapAndLookAhead(timeoutMs: number): Promise<{ reaped: ReapedTask[]; nextMs?: number }> {
    const [row] = await queryRows<{ reaped: ReapedRow[] | string; next_ms: number | string | null }>(
      this.db,
      sql`with reaped as (
            update ${workerTasks}
            set state = 'pending', worker_id = null, claimed_at = null, heartbeat_at = null
            where state = 'claimed' and heartbeat_at < now() - make_interval(secs => ${timeoutMs / 1000})
            returning id, instance_id, handler_name
          )
          select coalesce((select json_agg(json_build_object('id', r.id, 'tenant_id', i.domain_id, 'handler_name', r.handler_name))
                           from reaped r join ${instances} i on i.id = r.instance_id), '[]'::json) as reaped,
                 (select (extract(epoch from (min(heartbeat_at) + make_interval(secs => ${timeoutMs / 1000}) - now())) * 1000)::float8
                  from ${workerTasks} where state = 'claimed' and heartbeat_at >= now() - make_interval(secs => ${timeoutMs / 1000})) as next_ms`,
    );
    const reaped = (typeof row.reaped === "string" ? JSON.parse(row.reaped) : row.reaped) as ReapedRow[];
    return {
      reaped: reaped.map((r) => ({ id: r.id, tenantId: r.tenant_id, handlerName: r.handler_name })),
      nextMs: row.next_ms === null || row.next_ms === undefined ? undefined : Number(row.next_ms),
    };
  }

  /**
   * Applies a worker's result if `holder` holds the task: the task is finished, a completion's
   * output stored as the step's BlockOutput, and the instance flagged for its engine (a waiting
   * one due now) — the same effect as InstanceRepository.markNeedsAttention — in one statement, so
   * a report costs one round trip. The row lock makes concurrent reports on a task apply once.
   *
   * With `inPlace` (an engine with room asks, in its transaction `exec`): a waiting instance that
   * nobody holds, has no concurrency key and nothing else waiting for it is locked instead of
   * flagged and returned as it is stored (`locked`): that engine takes the result in and moves the
   * instance on before the transaction ends, while the row lock keeps everyone else off it
   * (ReportAdvance).
   */
  async report(taskId: string, tenant: OwnerScope, holder: TaskHolder, outcome: TaskOutcome, inPlace?: { exec: DatabaseExecutor }): Promise<ReportResult> {
    const completed = outcome.state === "completed";
    const output = completed ? JSON.stringify(outcome.output) : null;
    const rows = await queryRows(
      inPlace?.exec ?? this.db,
      sql`with t as (
            select * from ${workerTasks} where id = ${taskId} and ${ofTenant(tenant)} for update
          ), held as (
            select * from t where ${isHeldBy(holder)}
          ), finished as (
            update ${workerTasks} w
            set state = ${outcome.state}, completed_at = now(),
                output = ${output}::jsonb,
                error_message = ${completed ? null : outcome.message}::text,
                error_retryable = ${completed ? null : outcome.retryable}::boolean
            from held where w.id = held.id
            returning w.id
          ), stored as (
            insert into ${blockOutputs} (id, instance_id, block_id, output, output_size, attempt, created_at)
            select ${randomUUID()}::uuid, instance_id, block_id, ${output}::jsonb, ${completed ? outcome.outputSize : 0}::int, attempt, now()
            from held where ${completed}
            returning id
          ), locked as (
            select i.* from ${instances} i
            where ${inPlace ? sql`true` : sql`false`} and i.id = (select instance_id from held)
              and i.locked_by is null and i.state = 'waiting' and i.concurrency_key is null and not i.needs_attention
            for update
          ), flagged as (
            update ${instances} i
            set needs_attention = true,
                next_fire_at = case when i.locked_by is null then now() else i.next_fire_at end,
                state = case when i.state = 'waiting' then 'scheduled' else i.state end
            from held where i.id = held.instance_id and not exists (select 1 from locked)
            returning i.id
          )
          select t.*, exists (select 1 from held) as applied, (select to_jsonb(l) from locked l) as locked
          from t`,
    );
    if (rows.length === 0) return { applied: false };
    const locked = rows[0].locked;
    return {
      task: workerTaskFromSql(rows[0]),
      applied: Boolean(rows[0].applied),
      locked: locked ? instanceFromSql(typeof locked === "string" ? JSON.parse(locked) : (locked as Record<string, unknown>)) : undefined,
    };
  }

  /** Extends `holder`'s claim (one statement); the task as it is, when it is not held. */
  async heartbeat(taskId: string, tenant: OwnerScope, holder: TaskHolder): Promise<ReportResult> {
    const rows = await queryRows(
      this.db,
      sql`with beat as (
            update ${workerTasks} set heartbeat_at = now()
            where id = ${taskId} and ${ofTenant(tenant)} and ${isHeldBy(holder)}
            returning id
          )
          select t.*, exists (select 1 from beat) as applied from ${workerTasks} t where t.id = ${taskId} and ${ofTenant(tenant)}`,
    );
    return rows.length === 0 ? { applied: false } : { task: workerTaskFromSql(rows[0]), applied: Boolean(rows[0].applied) };
  }

  /** Results of these tasks that the engine has not seen yet (completed or failed). */
  async finished(ids: string[], exec: DatabaseExecutor): Promise<WorkerTaskRow[]> {
    if (ids.length === 0) return [];
    return exec
      .select()
      .from(workerTasks)
      .where(and(inArray(workerTasks.id, ids), inArray(workerTasks.state, ["completed", "failed"])));
  }

  /** Withdraws unfinished tasks (their step was cancelled or timed out); a worker reporting on them gets ERROR_CONFLICT. */
  async cancel(ids: string[], reason: string, exec: DatabaseExecutor): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = await exec
      .update(workerTasks)
      .set({ state: "failed", errorMessage: reason, errorRetryable: false, completedAt: sql`now()` as unknown as Date })
      .where(and(inArray(workerTasks.id, ids), inArray(workerTasks.state, ["pending", "claimed"])))
      .returning({ id: workerTasks.id });
    return rows.map((r: { id: string }) => r.id);
  }

  /** Withdraws every unfinished task of these instances (they were cancelled or failed). */
  async cancelForInstances(instanceIds: string[], reason: string, exec: DatabaseExecutor): Promise<void> {
    if (instanceIds.length === 0) return;
    await exec
      .update(workerTasks)
      .set({ state: "failed", errorMessage: reason, errorRetryable: false, completedAt: sql`now()` as unknown as Date })
      .where(and(inArray(workerTasks.instanceId, instanceIds), inArray(workerTasks.state, ["pending", "claimed"])));
  }
}
