import { and, eq, inArray, sql } from "drizzle-orm";
import type { Database, DatabaseExecutor } from "@cloudforet/db";
import { queryRows } from "@cloudforet/db";
import { instances, workerTasks, type WorkerTaskRow } from "../db/schema";

export type NewWorkerTask = typeof workerTasks.$inferInsert;

/** Maps a raw `returning *` row of worker_tasks to the Drizzle row shape. */
function fromSql(row: Record<string, unknown>): WorkerTaskRow {
  const at = (v: unknown) => (v === null || v === undefined ? null : v instanceof Date ? v : new Date(String(v)));
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
    claimedAt: at(row.claimed_at),
    heartbeatAt: at(row.heartbeat_at),
    completedAt: at(row.completed_at),
    output: (row.output as Record<string, unknown> | null) ?? null,
    errorMessage: (row.error_message as string | null) ?? null,
    errorRetryable: (row.error_retryable as boolean | null) ?? null,
    createdAt: at(row.created_at)!,
  };
}

export class WorkerTaskRepository {
  constructor(readonly db: Database) {}

  async insert(task: NewWorkerTask, exec: DatabaseExecutor = this.db): Promise<void> {
    await exec.insert(workerTasks).values(task);
  }

  async get(id: string, exec: DatabaseExecutor = this.db, forUpdate = false): Promise<WorkerTaskRow | undefined> {
    const query = exec.select().from(workerTasks).where(eq(workerTasks.id, id));
    const [row] = forUpdate ? await query.for("update") : await query;
    return row;
  }

  /** Claims up to `limit` pending tasks of a handler; concurrent pollers never get the same task. */
  async claim(tenant: string | undefined, handlerName: string, workerId: string, limit: number): Promise<WorkerTaskRow[]> {
    const ownTenant = tenant === undefined ? sql`true` : sql`instance_id in (select id from ${instances} where tenant_id = ${tenant})`;
    const rows = await queryRows(
      this.db,
      sql`with next as (
            select id from ${workerTasks}
            where handler_name = ${handlerName} and state = 'pending' and ${ownTenant}
            order by created_at
            limit ${limit}
            for update skip locked
          )
          update ${workerTasks} t
          set state = 'claimed', worker_id = ${workerId}, claimed_at = now(), heartbeat_at = now()
          from next where t.id = next.id
          returning t.*`,
    );
    return rows.map(fromSql).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
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
