import { randomUUID } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import type { Database } from "@cloudforet/db";
import { invalidParameter, missingParameter, notFound } from "@cloudforet/errors";
import { blockOutputs, instances, workerTasks, type WorkerTaskRow } from "../db/schema";
import { isUuid } from "../ids";
import type { InstanceRepository } from "../instances/instance-repository";
import { illegalStateChange, jsonBytes } from "../instances/rules";
import type { WorkerTaskRepository } from "./worker-task-repository";

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * The external worker protocol (seed 002 "External Workers"), minimal for the engine issue: poll,
 * complete, fail and heartbeat. The reaper, long polls and claim epochs come with the workers issue.
 */
export class Workers {
  constructor(
    private readonly db: Database,
    private readonly tasks: WorkerTaskRepository,
    private readonly instances: InstanceRepository,
    private readonly wake: (instanceId: string) => void,
  ) {}

  /**
   * Every call names the tenant it acts for (the caller's domain; undefined only without auth):
   * a worker only ever sees and reports on its own tenant's tasks.
   */
  async poll(tenant: string | undefined, handlerName: unknown, workerId: unknown, limit: unknown): Promise<WorkerTaskRow[]> {
    if (typeof handlerName !== "string" || handlerName === "") throw missingParameter("handler_name");
    if (typeof workerId !== "string" || workerId === "") throw missingParameter("worker_id");
    const n = limit === undefined || limit === null || limit === 0 ? 1 : Number(limit);
    if (!Number.isInteger(n) || n < 1 || n > 100) throw invalidParameter("limit must be an integer from 1 to 100", { parameter: "limit" });
    return this.tasks.claim(tenant, handlerName, workerId, n);
  }

  /** The task's output becomes the step's BlockOutput and the instance moves on at once. */
  async complete(tenant: string | undefined, taskId: string, workerId: unknown, output: unknown): Promise<void> {
    if (output !== undefined && output !== null && !isObject(output)) throw invalidParameter("output must be an object", { parameter: "output" });
    const result = (output as Record<string, unknown> | undefined) ?? {};
    const changed = await this.report(tenant, taskId, workerId, "completed", async (task, tx) => {
      await tx.update(workerTasks).set({ state: "completed", output: result, completedAt: sql`now()` as unknown as Date }).where(eq(workerTasks.id, task.id));
      await tx.insert(blockOutputs).values({
        id: randomUUID(),
        instanceId: task.instanceId,
        blockId: task.blockId,
        output: result,
        outputSize: jsonBytes(result),
        attempt: task.attempt,
        createdAt: new Date(),
      });
    });
    if (changed) this.wake(changed);
  }

  /** Retryable: the step's retry policy applies. Permanent: the step fails (a try_catch may recover). */
  async fail(tenant: string | undefined, taskId: string, workerId: unknown, message: unknown, retryable: unknown): Promise<void> {
    if (typeof message !== "string" || message === "") throw missingParameter("message");
    const changed = await this.report(tenant, taskId, workerId, "failed", async (task, tx) => {
      await tx
        .update(workerTasks)
        .set({ state: "failed", errorMessage: message, errorRetryable: retryable === true, completedAt: sql`now()` as unknown as Date })
        .where(eq(workerTasks.id, task.id));
    });
    if (changed) this.wake(changed);
  }

  async heartbeat(tenant: string | undefined, taskId: string, workerId: unknown): Promise<void> {
    if (typeof workerId !== "string" || workerId === "") throw missingParameter("worker_id");
    const task = isUuid(taskId) ? await this.tasks.get(taskId.toLowerCase()) : undefined;
    if (!task || !(await this.belongsTo(tenant, task, this.db))) throw notFound("worker task not found", { task_id: taskId });
    const [updated] = await this.db
      .update(workerTasks)
      .set({ heartbeatAt: sql`now()` as unknown as Date })
      .where(sql`${workerTasks.id} = ${task.id} and ${workerTasks.state} = 'claimed' and ${workerTasks.workerId} = ${workerId}`)
      .returning({ id: workerTasks.id });
    if (!updated) throw illegalStateChange(`task is ${task.state}${task.workerId ? ` (worker ${task.workerId})` : ""}; not claimed by ${workerId}`, { task_id: task.id });
  }

  /** Applies a worker's report to a task it holds; repeating the same completion is a no-op. */
  /** Another tenant's task is answered exactly like a missing one. */
  private async belongsTo(tenant: string | undefined, task: WorkerTaskRow, exec: Pick<Database, "select">): Promise<boolean> {
    if (tenant === undefined) return true;
    const [owner] = await exec.select({ tenantId: instances.tenantId }).from(instances).where(eq(instances.id, task.instanceId));
    return owner?.tenantId === tenant;
  }

  private async report(
    tenant: string | undefined,
    taskId: string,
    workerId: unknown,
    outcome: "completed" | "failed",
    write: (task: WorkerTaskRow, tx: Parameters<Parameters<Database["transaction"]>[0]>[0]) => Promise<void>,
  ): Promise<string | undefined> {
    if (typeof workerId !== "string" || workerId === "") throw missingParameter("worker_id");
    return this.db.transaction(async (tx) => {
      const task = isUuid(taskId) ? await this.tasks.get(taskId.toLowerCase(), tx, true) : undefined;
      if (!task || !(await this.belongsTo(tenant, task, tx))) throw notFound("worker task not found", { task_id: taskId });
      if (task.state === outcome && task.workerId === workerId) return undefined;
      if (task.state !== "claimed" || task.workerId !== workerId) {
        throw illegalStateChange(`task is ${task.state}${task.workerId ? ` (worker ${task.workerId})` : ""}; not claimed by ${workerId}`, { task_id: task.id, state: task.state });
      }
      await write(task, tx);
      await this.instances.markNeedsAttention(task.instanceId, tx, { waitingToScheduled: true });
      return task.instanceId;
    });
  }
}
