import { randomUUID } from "node:crypto";
import type { Database, Transaction } from "@cloudforet/db";
import { isConnectionError } from "@cloudforet/db";
import { withTraceparent } from "@cloudforet/runtime";
import type { Logger } from "pino";
import { walkBlocks, type StepBlock } from "../definitions/blocks";
import { parseDuration } from "../definitions/durations";
import type { EvaluationScope } from "../expressions/paths";
import { resolveTemplates } from "../expressions/templates";
import type { RateLimits } from "../rate-limits/rate-limits";
import { jsonBytes } from "../instances/rules";
import type { CheckpointRepository } from "./checkpoint-repository";
import type { EngineEvents } from "./engine-events";
import type { EngineMetrics } from "./engine-metrics";
import { StepError, permanent, retryable, type StepHandler, type StepInvocation, type StepOutcome } from "./handlers/handler";
import type { HandlerRegistry } from "./handlers/registry";
import type { ReadyStep } from "./interpreter";
import { serial, type PassState } from "./pass-state";
import { backoffMs, maxAttempts } from "./timing";

export interface StepExecutorDependencies {
  db: Database;
  registry: HandlerRegistry;
  checkpoints: CheckpointRepository;
  /** Admission of steps naming a rate_limit_key. */
  rateLimits: RateLimits;
  metrics: EngineMetrics;
  logger: Logger;
  /** Hears that a transactional step's checkpoint committed. */
  events: Pick<EngineEvents, "stepCommitted">;
}

/** The signal of steps without a timeout. */
const NEVER_ABORTED = new AbortController().signal;

/**
 * Runs one ready step of a pass through the handler registry: rate-limit admission, the handler
 * under its timeout, the outcome recorded in the tree (retries, suspension, escalation). A
 * transactional handler runs inside its checkpoint's transaction; an external one is checkpointed
 * right after, so its effect is never repeated by a recovered pass.
 */
export class StepExecutor {
  constructor(private readonly deps: StepExecutorDependencies) {}

  /** What templates and conditions of the instance see (outputs loaded once, when they are read). */
  async scopeOf(run: PassState): Promise<EvaluationScope> {
    if (!run.outputs && (run.sequence.readsOutputs || run.exec.injected || readsStepsAlias(run.sequence))) {
      run.outputs = await this.deps.checkpoints.latestOutputs(run.row.id);
      for (const pending of run.pendingOutputs) run.outputs[pending.blockId] = pending.output;
    }
    const { row } = run;
    return {
      context: run.context,
      outputs: run.outputs ?? {},
      instance: { id: row.id, tenant_id: row.tenantId, namespace: row.namespace, sequence_id: row.sequenceId, metadata: row.metadata },
      state: run.kv,
    };
  }

  /**
   * Whether the step can run inside a transaction the pass already has open (InstancePass batches
   * taking in a result, the next steps and parking into one checkpoint): a transactional handler
   * without a rate limit to consult first.
   */
  runsInside(step: ReadyStep): boolean {
    return !step.block.rate_limit_key && this.deps.registry.resolve(handlerNameOf(step)).effects === "transactional";
  }

  /**
   * Runs a `runsInside` step in the pass's open transaction and records its outcome; the caller
   * checkpoints it in that transaction and reports `stepCommitted` once it commits. True when the
   * handler's writes may have made other instances due (`wakesInstances`).
   */
  async executeInside(tx: Transaction, run: PassState, step: ReadyStep): Promise<boolean> {
    const handlerName = handlerNameOf(step);
    const handler = this.deps.registry.resolve(handlerName);
    const invocation = await this.invocationOf(run, step, handlerName);
    await this.timed(run, step, handlerName, async () => {
      invocation.params = resolveTemplates(step.block.params ?? {}, invocation.scope);
      this.record(run, step, await this.invoke(handler, { ...invocation, tx }, step.block));
    });
    return handler.wakesInstances === true;
  }

  async execute(run: PassState, step: ReadyStep): Promise<void> {
    const { block, node } = step;
    const handlerName = handlerNameOf(step);
    const handler = this.deps.registry.resolve(handlerName);
    // A step resuming (worker result, review answer, long sleep) was admitted when it started.
    if (block.rate_limit_key && node.status !== "suspended" && !(await this.admitted(run, step))) return;
    const invocation = await this.invocationOf(run, step, handlerName);
    await this.timed(run, step, handlerName, async () => {
      invocation.params = resolveTemplates(block.params ?? {}, invocation.scope);
      if (handler.effects === "transactional") {
        await serial(run, () =>
          this.deps.db.transaction(async (tx) => {
            const outcome = await this.invoke(handler, { ...invocation, tx }, block);
            this.record(run, step, outcome);
            await this.deps.checkpoints.persist(tx, run);
          }),
        );
        this.deps.events.stepCommitted(handler.wakesInstances === true);
      } else {
        const outcome = await this.invoke(handler, invocation, block);
        this.record(run, step, outcome);
        if (handler.effects === "external") await this.deps.checkpoints.write(run);
      }
    });
  }

  /** Marks the step running and builds its invocation (params resolved by the caller, under `timed`). */
  private async invocationOf(run: PassState, step: ReadyStep, handlerName: string): Promise<StepInvocation> {
    const { block, node, key } = step;
    const attempt = node.attempt ?? 0;
    node.status = "running";
    const runtime = (run.context.runtime ??= {}) as Record<string, unknown>;
    runtime.current_step = block.id;
    runtime.attempt = attempt;
    const scope = await this.scopeOf(run);
    const { row } = run;
    const timeoutMs = block.timeout ? parseDuration(block.timeout) : undefined;
    const invocation: StepInvocation = {
      instance: { id: row.id, domainId: row.domainId, tenantId: row.tenantId, namespace: row.namespace, sequenceId: row.sequenceId, timezone: row.timezone, metadata: row.metadata },
      handler: handlerName,
      blockId: block.id,
      key,
      attempt,
      params: {},
      context: run.context,
      state: run.kv,
      data: { ...(node.data ?? {}) },
      timeoutMs,
      queueName: block.queue_name,
      scope,
      now: Date.now(),
      signal: NEVER_ABORTED,
      knownBlockIds: () => knownBlockIds(run),
    };
    return invocation;
  }

  /**
   * Runs a step's work in a "step <block_id>" span (a trace of its own: the engine stores no
   * caller's traceparent with an instance), under the active-task gauge and the step-duration histogram.
   */
  private async timed(run: PassState, step: ReadyStep, handlerName: string, work: () => Promise<void>): Promise<void> {
    const attributes = { "workflow.instance_id": run.row.id, "workflow.sequence": run.row.sequenceId, "workflow.block": step.block.id };
    return withTraceparent(undefined, `step ${step.block.id}`, attributes, () => this.measured(handlerName, work));
  }

  private async measured(handlerName: string, work: () => Promise<void>): Promise<void> {
    const metrics = this.deps.metrics;
    metrics.activeTasks.inc();
    const started = performance.now();
    try {
      await work();
    } finally {
      metrics.activeTasks.dec();
      metrics.stepDuration.observe({ handler: this.deps.registry.isBuiltin(handlerName) ? handlerName : "external" }, (performance.now() - started) / 1000);
    }
  }

  /**
   * Counts the step against its rate_limit_key (templates resolved). When the window is full the
   * step stays pending until the next window starts — the attempt is not consumed — and the walk
   * parks the instance until then.
   */
  private async admitted(run: PassState, step: ReadyStep): Promise<boolean> {
    const raw = step.block.rate_limit_key!;
    const key = raw.includes("{{") ? String(resolveTemplates(raw, await this.scopeOf(run))) : raw;
    const admission = await this.deps.rateLimits.admit(run.row, key);
    if (admission.admitted) return true;
    this.deps.metrics.rateLimitsExceeded.inc();
    step.node.status = "pending";
    step.node.data = { ...(step.node.data ?? {}), retry_at: admission.retryAt };
    return false;
  }

  /** Runs a handler under the step's timeout (not for waits: a worker task or a review times out by timer). */
  private async invoke(handler: StepHandler, invocation: StepInvocation, block: StepBlock): Promise<StepOutcome> {
    const timed = !!invocation.timeoutMs && handler.effects !== "transactional";
    const controller = timed ? new AbortController() : undefined;
    const call = async (): Promise<StepOutcome> => {
      try {
        return await handler.run(controller ? { ...invocation, signal: controller.signal } : invocation);
      } catch (err) {
        if (err instanceof StepError) return { kind: "failed", message: err.message, retryable: err.retryable };
        if (invocation.tx) throw err;
        if (isConnectionError(err)) return retryable(`${invocation.handler}: ${(err as Error).message}`);
        this.deps.logger.warn({ err, instance_id: invocation.instance.id, block_id: block.id }, "step handler threw");
        return permanent(`${invocation.handler}: ${(err as Error).message}`);
      }
    };
    if (!controller) return call();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<StepOutcome>((resolve) => {
      timer = setTimeout(() => {
        controller.abort();
        resolve(retryable(`step "${block.id}" timed out after ${typeof block.timeout === "number" ? `${block.timeout}ms` : block.timeout}`));
      }, invocation.timeoutMs);
    });
    try {
      return await Promise.race([call(), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Records a step's outcome in the tree (and its output for the next checkpoint). */
  private record(run: PassState, step: ReadyStep, outcome: StepOutcome): void {
    const { node, block, key } = step;
    const metrics = this.deps.metrics;
    const now = Date.now();
    switch (outcome.kind) {
      case "completed": {
        metrics.stepsExecuted.inc();
        Object.assign(node, { status: "completed", seq: ++run.exec.seq });
        delete node.data;
        delete node.error;
        if (!outcome.outputStored) {
          run.pendingOutputs.push({
            id: randomUUID(),
            instanceId: run.row.id,
            blockId: block.id,
            output: outcome.output,
            outputSize: jsonBytes(outcome.output),
            attempt: node.attempt ?? 0,
            createdAt: new Date(now),
          });
        }
        if (run.outputs) run.outputs[block.id] = outcome.output;
        if (outcome.inject && outcome.inject.length > 0) run.exec.injected = { ...(run.exec.injected ?? {}), [key]: outcome.inject };
        return;
      }
      case "failed": {
        metrics.stepsExecuted.inc();
        metrics.stepsFailed.inc();
        const attempt = node.attempt ?? 0;
        if (outcome.retryable && attempt + 1 < maxAttempts(block.retry)) {
          metrics.stepsRetried.inc();
          Object.assign(node, { status: "pending", attempt: attempt + 1, error: outcome.message, data: { retry_at: now + backoffMs(block.retry, attempt) } });
          return;
        }
        Object.assign(node, { status: "failed", error: outcome.message, seq: ++run.exec.seq });
        delete node.data;
        return;
      }
      case "suspended":
        node.status = "suspended";
        node.data = { ...outcome.data, ...(outcome.until !== undefined ? { until: outcome.until } : {}), ...(outcome.external ? { external: true } : {}) };
        return;
      case "escalate":
        node.status = "pending";
        node.data = { escalated_to: outcome.handler };
        return;
    }
  }
}

/** Sequences whose templates or conditions read outputs through the engine's `steps.` alias. */
const stepsAliasReaders = new WeakMap<PassState["sequence"], boolean>();

function readsStepsAlias(sequence: PassState["sequence"]): boolean {
  let reads = stepsAliasReaders.get(sequence);
  if (reads === undefined) stepsAliasReaders.set(sequence, (reads = /\bsteps[.[]/.test(JSON.stringify(sequence.blocks))));
  return reads;
}

/** The handler a step runs: its block's, or the one an escalation moved it to. */
const handlerNameOf = ({ node, block }: ReadyStep): string => (typeof node.data?.escalated_to === "string" ? node.data.escalated_to : block.handler);

/** Every block id the instance knows: its definition's and those self_modify added. */
function knownBlockIds(run: PassState): string[] {
  const ids = [...run.sequence.index.keys()];
  for (const injected of Object.values(run.exec.injected ?? {})) for (const block of walkBlocks(injected)) ids.push(block.id);
  return ids;
}
