import { randomUUID } from "node:crypto";
import type { WorkerTaskRow } from "../../db/schema";
import type { WorkerTaskRepository } from "../../workers/repository";
import { isObject, retryable, type StepHandler, type StepOutcome } from "./handler";

function resultOf(task: Pick<WorkerTaskRow, "state" | "output" | "errorMessage" | "errorRetryable">): StepOutcome | undefined {
  if (task.state === "completed") return { kind: "completed", output: task.output ?? {}, outputStored: true };
  if (task.state === "failed") return { kind: "failed", message: task.errorMessage ?? "worker task failed", retryable: task.errorRetryable === true };
  return undefined;
}

/**
 * Every handler that is not built in: the step becomes a worker task (in the checkpoint's
 * transaction, so it is queued exactly once; long-polling workers are woken once it commits) and
 * the instance waits until a worker completes or fails it — or until the step's timeout, which
 * withdraws the task and fails the attempt (retryable).
 */
export function externalWorker(tasks: WorkerTaskRepository): StepHandler {
  return {
    effects: "transactional",
    async run({ params, instance, handler, blockId, key, attempt, context, data, timeoutMs, queueName, now, tx }) {
      if (typeof data.task_id !== "string") {
        const taskId = randomUUID();
        await tasks.dispatch(
          {
            id: taskId,
            instanceId: instance.id,
            blockId,
            nodeKey: key,
            handlerName: handler,
            params,
            context: { data: context.data ?? {}, config: context.config ?? {} },
            attempt,
            timeoutMs: timeoutMs ?? 0,
            queueName: queueName ?? null,
          },
          instance.domainId,
          tx!,
        );
        return { kind: "suspended", data: { task_id: taskId, dispatched_at: now }, until: timeoutMs ? now + timeoutMs : undefined, external: true };
      }
      if (isObject(data.task)) {
        const task = data.task as { state: string; output: Record<string, unknown> | null; error_message: string | null; error_retryable: boolean | null };
        const outcome = resultOf({ state: task.state, output: task.output, errorMessage: task.error_message, errorRetryable: task.error_retryable });
        if (outcome) return outcome;
      }
      // The timer fired without a result: the step timed out, unless the worker finished just now.
      const withdrawn = await tasks.cancel([data.task_id], "timed out", tx!);
      if (withdrawn.length > 0) return retryable(`step "${blockId}" timed out after ${timeoutMs} ms waiting for a ${handler} worker`);
      const task = await tasks.get(data.task_id, tx);
      const outcome = task ? resultOf(task) : undefined;
      return outcome ?? retryable(`worker task ${data.task_id} vanished`);
    },
  };
}
