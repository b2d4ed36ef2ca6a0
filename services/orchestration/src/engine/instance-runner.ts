import { randomUUID } from "node:crypto";
import { asc, eq, sql } from "drizzle-orm";
import type { Database, DatabaseExecutor } from "@cloudforet/db";
import { isConnectionError, queryRows } from "@cloudforet/db";
import { preparedRows } from "../db/prepared-rows";
import type { Logger } from "pino";
import { blockOutputs, concurrencySlots, instances, type InstanceRow } from "../db/schema";
import { walkBlocks, type StepBlock } from "../definitions/blocks";
import { parseDuration } from "../definitions/durations";
import { resolveTemplates } from "../expressions/templates";
import type { ConcurrencySlots } from "../flow/concurrency-slots";
import type { RateLimits } from "../flow/rate-limits";
import type { EvaluationScope } from "../expressions/paths";
import { jsonBytes, normalizeContext } from "../instances/rules";
import { markSignalsProcessed, pendingSignals } from "../signals/signal-repository";
import type { WorkerTaskRepository } from "../workers/worker-task-repository";
import type { EngineMetrics } from "./engine-metrics";
import type { ExecutionState, NodeState } from "./execution-state";
import { isTerminal } from "./execution-state";
import { StepError, permanent, retryable, type StepHandler, type StepInvocation, type StepOutcome } from "./handlers/handler";
import { HUMAN_REVIEW_SIGNAL } from "./handlers/human-review";
import type { HandlerRegistry } from "./handlers/registry";
import { Walker, blockIdOfKey, type ReadyStep, type WalkResult } from "./interpreter";
import type { LoadedSequence, SequenceCache } from "./sequence-cache";
import { backoffMs, maxAttempts } from "./timing";

export interface RunnerSettings {
  maxContextBytes: number;
  /** After this much continuous work a pass re-schedules the instance so others get a turn. */
  maxPassMs: number;
}

export interface RunnerDependencies {
  db: Database;
  sequences: SequenceCache;
  registry: HandlerRegistry;
  tasks: WorkerTaskRepository;
  metrics: EngineMetrics;
  logger: Logger;
  /** Admission of steps naming a rate_limit_key. */
  rateLimits: RateLimits;
  /** Concurrency slots: an instance that ends wakes the waiters of its key. */
  slots: ConcurrencySlots;
  /** Claim again now (something became due in this process). */
  kick(): void;
  /** Claim again at `at` (a timer of an instance this engine parked). */
  kickAt(at: number): void;
  /** Tell the other replicas something became due. */
  wakeOthers(): void;
  /** A state change this pass wrote (InstanceService.Watch's notifications). */
  stateChanged?(row: InstanceRow, from: string, to: string, next: number | null): void;
}

/** The engine lost its lease on the instance (another replica recovered it): stop without writing. */
export class LeaseLostError extends Error {
  override name = "LeaseLostError";
}

type NewOutput = typeof blockOutputs.$inferInsert;

interface Run {
  row: InstanceRow;
  sequence: LoadedSequence;
  context: Record<string, unknown>;
  exec: ExecutionState;
  kv: Record<string, unknown>;
  /** The stored state this engine believes the instance has: running, or paused while it only takes signals. */
  expected: string;
  /** Latest output per block id, loaded when templates or conditions read outputs. */
  outputs?: Record<string, unknown>;
  pendingOutputs: NewOutput[];
  cancelTasks: string[];
  /** The stored row says a signal or worker result is waiting. */
  attention: boolean;
  /** The stored state was changed by someone else (PATCH /state): stop and let go. */
  stoppedBy?: string;
  /** The instance was released (paused, cancelled, finished). */
  done: boolean;
  /** Serializes this instance's checkpoints. */
  chain: Promise<unknown>;
  /** When the pass last looked at the stored needs_attention flag. */
  attentionCheckedAt: number;
  /** The instance ended and gave back its concurrency slot: waiters of its key may run now. */
  freedSlot?: boolean;
  /** A waiter for a concurrency slot, claimed only to take in its signals: it parks again after. */
  slotless: boolean;
}

/** How often a long pass looks for signals sent through another replica (same-process ones arrive as hints). */
const ATTENTION_CHECK_MS = 250;

interface StateChange {
  to: string;
  next: number | null;
  release: boolean;
}

const AUDIT_LIMIT = 100;
/** The signal of steps without a timeout. */
const NEVER_ABORTED = new AbortController().signal;
const TERMINAL = new Set(["completed", "failed", "cancelled"]);

const hasTaskNodes = (exec: ExecutionState) => Object.values(exec.nodes).some((node) => typeof node.data?.task_id === "string");

const outputRecord = (o: NewOutput) => ({ ...o, created_at: (o.createdAt as Date).toISOString(), instance_id: o.instanceId, block_id: o.blockId, output_size: o.outputSize });
const PARKED = new Set(["scheduled", "waiting", "paused"]);

/**
 * Runs one claimed instance as far as it can go: absorbs its signals and worker results, walks its
 * tree, executes the ready steps (in parallel where the tree allows), checkpoints, and finally parks
 * (scheduled at its next timer, waiting for a worker or a signal, paused) or ends it. Every write
 * is conditional on still holding the lease, so a recovered instance is never run twice at once.
 */
export class InstanceRunner {
  /** The instances this engine is running now, for hints that something arrived for one of them. */
  private readonly active = new Map<string, Run>();

  constructor(
    private readonly deps: RunnerDependencies,
    private readonly settings: RunnerSettings,
  ) {}

  /** A signal or worker result for `instanceId` was just committed in this process. */
  notify(instanceId: string): void {
    const run = this.active.get(instanceId);
    if (run) run.attention = true;
  }

  async run(row: InstanceRow, options: { slotless?: boolean } = {}): Promise<void> {
    const started = performance.now();
    try {
      const sequence = await this.deps.sequences.get(row.sequenceId);
      const run: Run = {
        row,
        sequence: sequence ?? { id: row.sequenceId, blocks: [], index: new Map(), readsOutputs: false },
        // The claimed row was just parsed from the database and nothing else holds it: no copies needed.
        context: normalizeContext(row.context, "context"),
        exec: row.execution ?? { nodes: {}, seq: 0 },
        kv: row.kv ?? {},
        expected: row.state,
        pendingOutputs: [],
        cancelTasks: [],
        attention: row.needsAttention,
        done: false,
        chain: Promise.resolve(),
        attentionCheckedAt: Date.now(),
        slotless: options.slotless ?? false,
      };
      this.active.set(row.id, run);
      if (!sequence) {
        await this.finish(run, "failed", null, `sequence ${row.sequenceId} not found`);
        return;
      }
      await this.drive(run);
    } catch (err) {
      if (err instanceof LeaseLostError) {
        this.deps.logger.debug({ instance_id: row.id }, "lease lost; another engine owns the instance now");
        return;
      }
      const log = this.deps.logger.child({ instance_id: row.id });
      log.error({ err }, "instance pass failed; releasing it for a later retry");
      await this.abandon(row.id, row.lockedBy).catch((releaseErr) => log.warn({ err: releaseErr }, "could not release the instance; its lease will expire"));
    } finally {
      const run = this.active.get(row.id);
      this.active.delete(row.id);
      this.deps.metrics.instanceProcessing.observe((performance.now() - started) / 1000);
      if (run?.freedSlot && row.concurrencyKey !== null) await this.wakeWaiters(row);
      else if (run?.slotless && run.done && !run.stoppedBy && run.expected === "scheduled") await this.requeue(row);
    }
  }

  /** After the commit that freed a slot: its waiters become due and are claimed now, here or elsewhere. */
  private async wakeWaiters(row: InstanceRow): Promise<void> {
    try {
      const woken = await this.deps.slots.wake({ tenantId: row.tenantId, concurrencyKey: row.concurrencyKey! });
      if (woken > 0) {
        this.deps.kick();
        this.deps.wakeOthers();
      }
    } catch (err) {
      this.deps.logger.warn({ err, instance_id: row.id }, "could not wake the waiters of a concurrency key; the periodic sweep will");
    }
  }

  /** A waiter that took in its signals and parked again goes back in line for a slot. */
  private async requeue(row: InstanceRow): Promise<void> {
    try {
      await this.deps.slots.requeue(row);
      this.deps.kick();
    } catch (err) {
      this.deps.logger.warn({ err, instance_id: row.id }, "could not put a waiter back in line for its concurrency slot");
    }
  }

  private async drive(run: Run): Promise<void> {
    const deadline = Date.now() + this.settings.maxPassMs;
    for (;;) {
      if (run.done) return;
      if (run.stoppedBy) return this.letGo(run);
      if (!run.attention && Date.now() - run.attentionCheckedAt > ATTENTION_CHECK_MS) await this.checkAttention(run);
      if (run.attention) {
        await this.absorb(run);
        continue;
      }
      if (run.expected === "paused") {
        if (await this.finish(run, "paused", null)) return;
        continue;
      }
      if (run.slotless) {
        // Signals taken in, still no slot: back to waiting (no fire time; the key's next free slot wakes it).
        if (await this.finish(run, "scheduled", null)) return;
        continue;
      }
      const walk = await this.walk(run);
      run.cancelTasks.push(...walk.cancelledTasks);
      const end = this.endOf(run, walk, deadline);
      if (end) {
        if (await this.finish(run, end.to, end.next, end.error, end.failedBlock)) return;
        continue;
      }
      await Promise.all(walk.ready.map((step) => this.execute(run, step)));
    }
  }

  private async checkAttention(run: Run): Promise<void> {
    run.attentionCheckedAt = Date.now();
    const [row] = await this.deps.db.select({ attention: instances.needsAttention }).from(instances).where(eq(instances.id, run.row.id));
    if (row?.attention) run.attention = true;
  }

  /** Whether the pass ends after this walk, and how. */
  private endOf(run: Run, walk: WalkResult, deadline: number): { to: string; next: number | null; error?: string; failedBlock?: string } | undefined {
    if (jsonBytes(run.context) > this.settings.maxContextBytes) return { to: "failed", next: null, error: `context exceeds max_context_bytes (${this.settings.maxContextBytes})` };
    if (run.exec.cancelRequested && !walk.inCancellationScope) return { to: "cancelled", next: null };
    if (walk.status === "completed") return { to: "completed", next: null };
    if (walk.status === "failed") return { to: "failed", next: null, error: walk.error, failedBlock: walk.failedBlock };
    if (walk.ready.length === 0) return { to: walk.waitingExternal ? "waiting" : "scheduled", next: walk.wakeAt ?? (walk.waitingExternal ? null : Date.now() + 1_000) };
    if (Date.now() > deadline) return { to: "scheduled", next: Date.now() };
    return undefined;
  }

  private async walk(run: Run): Promise<WalkResult> {
    const scope = await this.scopeOf(run);
    return new Walker(run.exec, run.sequence.blocks, { now: Date.now(), timezone: run.row.timezone, random: Math.random, scope }).walk();
  }

  private async scopeOf(run: Run): Promise<EvaluationScope> {
    if (!run.outputs && (run.sequence.readsOutputs || run.exec.injected)) {
      const rows = await this.deps.db
        .select({ blockId: blockOutputs.blockId, output: blockOutputs.output })
        .from(blockOutputs)
        .where(eq(blockOutputs.instanceId, run.row.id))
        .orderBy(asc(blockOutputs.createdAt), asc(blockOutputs.seq));
      run.outputs = Object.fromEntries(rows.map((r) => [r.blockId, r.output]));
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

  private async execute(run: Run, step: ReadyStep): Promise<void> {
    const { block, node, key } = step;
    const handlerName = typeof node.data?.escalated_to === "string" ? node.data.escalated_to : block.handler;
    const handler = this.deps.registry.resolve(handlerName);
    const attempt = node.attempt ?? 0;
    // A step resuming (worker result, review answer, long sleep) was admitted when it started.
    if (block.rate_limit_key && node.status !== "suspended" && !(await this.admitted(run, step))) return;
    node.status = "running";
    const runtime = (run.context.runtime ??= {}) as Record<string, unknown>;
    runtime.current_step = block.id;
    runtime.attempt = attempt;
    const scope = await this.scopeOf(run);
    const { row } = run;
    const timeoutMs = block.timeout ? parseDuration(block.timeout) : undefined;
    const invocation: StepInvocation = {
      instance: { id: row.id, tenantId: row.tenantId, namespace: row.namespace, sequenceId: row.sequenceId, timezone: row.timezone, metadata: row.metadata },
      handler: handlerName,
      blockId: block.id,
      key,
      attempt,
      params: {},
      context: run.context,
      state: run.kv,
      data: { ...(node.data ?? {}) },
      timeoutMs,
      scope,
      now: Date.now(),
      signal: NEVER_ABORTED,
      knownBlockIds: () => this.knownBlockIds(run),
    };
    const metrics = this.deps.metrics;
    metrics.activeTasks.inc();
    const started = performance.now();
    try {
      invocation.params = resolveTemplates(block.params ?? {}, scope);
      if (handler.effects === "transactional") {
        await this.serial(run, () =>
          this.deps.db.transaction(async (tx) => {
            const outcome = await this.invoke(handler, { ...invocation, tx }, block);
            this.apply(run, step, outcome);
            await this.persist(tx, run);
          }),
        );
        this.deps.kick();
        this.deps.wakeOthers();
      } else {
        const outcome = await this.invoke(handler, invocation, block);
        this.apply(run, step, outcome);
        if (handler.effects === "external") await this.write(run);
      }
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
  private async admitted(run: Run, step: ReadyStep): Promise<boolean> {
    const raw = step.block.rate_limit_key!;
    const key = raw.includes("{{") ? String(resolveTemplates(raw, await this.scopeOf(run))) : raw;
    const admission = await this.deps.rateLimits.admit(run.row.tenantId, key);
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
        resolve(retryable(`step "${block.id}" timed out after ${block.timeout}`));
      }, invocation.timeoutMs);
    });
    try {
      return await Promise.race([call(), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Records a step's outcome in the tree (and its output for the next checkpoint). */
  private apply(run: Run, step: ReadyStep, outcome: StepOutcome): void {
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

  private knownBlockIds(run: Run): string[] {
    const ids = [...run.sequence.index.keys()];
    for (const injected of Object.values(run.exec.injected ?? {})) for (const block of walkBlocks(injected)) ids.push(block.id);
    return ids;
  }

  /** Runs `work` after the instance's previous checkpoint finished. */
  private serial<T>(run: Run, work: () => Promise<T>): Promise<T> {
    const next = run.chain.then(work, work);
    run.chain = next.catch(() => {});
    return next;
  }

  /** Writes a checkpoint (and a state change): one statement, or a transaction when worker tasks change too. */
  private write(run: Run, change?: StateChange): Promise<"written" | "attention"> {
    return this.serial(run, () => {
      const terminal = change !== undefined && TERMINAL.has(change.to);
      const tasksChange = run.cancelTasks.length > 0 || (terminal && hasTaskNodes(run.exec));
      return tasksChange ? this.deps.db.transaction((tx) => this.persist(tx, run, change)) : this.persist(this.deps.db, run, change);
    });
  }

  /**
   * Writes the in-memory state (context, tree, kv, new outputs) in one statement if this engine
   * still holds the lease; with `change`, also the new state (unless someone else changed it
   * meanwhile). A release waits while a signal or worker result is pending: then nothing is written
   * and "attention" is returned, so the pass absorbs it first. Withdrawn worker tasks are written
   * with it (`exec` is then a transaction).
   */
  private async persist(exec: DatabaseExecutor, run: Run, change?: StateChange): Promise<"written" | "attention"> {
    const id = run.row.id;
    const expected = run.expected;
    const outputs = run.pendingOutputs.slice();
    const release = change?.release ?? false;
    const [row] = await preparedRows<{ previous_state: string; needs_attention: boolean; written: boolean; freed: boolean }>(
      exec,
      sql`with cur as (
            select id, state, needs_attention from ${instances} where id = ${id} and locked_by = ${run.row.lockedBy} for update
          ), upd as (
            update ${instances} i
            set context = ${JSON.stringify(run.context)}::jsonb,
                execution = ${JSON.stringify(run.exec)}::jsonb,
                kv = ${JSON.stringify(run.kv)}::jsonb,
                updated_at = now(),
                state = case when ${change !== undefined} and cur.state = ${expected} then ${change?.to ?? null}::text else i.state end,
                next_fire_at = case when ${change !== undefined} and cur.state = ${expected} then ${change?.next == null ? null : new Date(change.next).toISOString()}::timestamptz else i.next_fire_at end,
                locked_by = case when ${release} then null else i.locked_by end,
                lease_expires_at = case when ${release} then null else i.lease_expires_at end
            from cur
            where i.id = cur.id and not (${release} and cur.needs_attention and cur.state = ${expected})
            returning i.id, i.state
          ), freed as (
            -- An instance that ends gives its concurrency slot back in the same statement.
            delete from ${concurrencySlots} s using upd
            where s.instance_id = upd.id and upd.state in ('completed', 'failed', 'cancelled')
            returning 1
          ), outs as (
            insert into ${blockOutputs} (id, instance_id, block_id, output, output_size, attempt, created_at)
            select x.id, x.instance_id, x.block_id, x.output, x.output_size, x.attempt, x.created_at
            from jsonb_to_recordset(${JSON.stringify(outputs.map(outputRecord))}::jsonb)
              as x(id uuid, instance_id uuid, block_id text, output jsonb, output_size int, attempt int, created_at timestamptz)
            where exists (select 1 from upd)
            returning 1
          )
          select cur.state as previous_state, cur.needs_attention, exists (select 1 from upd) as written,
                 exists (select 1 from freed) as freed
          from cur`,
    );
    if (!row) throw new LeaseLostError(`lost the lease on instance ${id}`);
    const ours = row.previous_state === expected;
    if (!row.written) {
      run.attention = true;
      return "attention";
    }
    run.pendingOutputs.splice(0, outputs.length);
    if (row.freed) run.freedSlot = true;
    const cancels = run.cancelTasks.splice(0);
    if (cancels.length > 0) await this.deps.tasks.cancel(cancels, "cancelled", exec);
    if (change && ours && TERMINAL.has(change.to) && hasTaskNodes(run.exec)) await this.deps.tasks.cancelForInstances([id], `instance ${change.to}`, exec);
    if (!ours) run.stoppedBy = row.previous_state;
    else if (change) run.expected = change.to;
    if (ours && change && change.to !== expected) this.deps.stateChanged?.(run.row, expected, change.to, change.next);
    if (row.needs_attention) run.attention = true;
    return "written";
  }

  /**
   * Ends the pass: the instance parks (scheduled, waiting, paused) or ends (completed, failed,
   * cancelled). False when a signal or worker result arrived meanwhile: the pass goes on with it.
   */
  private async finish(run: Run, to: string, next: number | null, error?: string, failedBlock?: string): Promise<boolean> {
    const runtime = (run.context.runtime ??= {}) as Record<string, unknown>;
    const before = { error: runtime.error, failed_block: runtime.failed_block, cancels: run.cancelTasks.length };
    if (to === "failed") {
      runtime.error = error ?? "failed";
      if (failedBlock) runtime.failed_block = failedBlock;
    }
    if (to === "cancelled") {
      for (const node of Object.values(run.exec.nodes)) if (typeof node.data?.task_id === "string" && !isTerminal(node.status)) run.cancelTasks.push(node.data.task_id);
    }
    const expectedBefore = run.expected;
    const result = await this.write(run, { to, next, release: true });
    if (result === "attention") {
      if (to === "failed") Object.assign(runtime, { error: before.error, failed_block: before.failed_block });
      run.cancelTasks.splice(before.cancels);
      return false;
    }
    run.done = true;
    if (run.stoppedBy) {
      // Someone changed the state while we ran; our progress is saved, the state is theirs.
      if (run.stoppedBy === "scheduled") this.deps.kick();
      return true;
    }
    const metrics = this.deps.metrics;
    if (to === "completed" && expectedBefore !== to) metrics.instancesCompleted.inc();
    if (to === "failed" && expectedBefore !== to) metrics.instancesFailed.inc();
    if (PARKED.has(to) && next !== null) this.deps.kickAt(next);
    return true;
  }

  /** The state was changed from outside (PATCH /state) while we held the instance: save nothing more, let go. */
  private async letGo(run: Run): Promise<void> {
    await this.deps.db
      .update(instances)
      .set({ lockedBy: null, leaseExpiresAt: null })
      .where(sql`${instances.id} = ${run.row.id} and ${instances.lockedBy} = ${run.row.lockedBy}`);
    run.done = true;
    if (run.stoppedBy === "scheduled") this.deps.kick();
  }

  /** After an unexpected error: back to scheduled in a second, without writing this pass's progress. */
  private async abandon(id: string, token: string | null): Promise<void> {
    await this.deps.db.execute(sql`update ${instances}
      set locked_by = null, lease_expires_at = null,
          state = case when state = 'running' then 'scheduled' else state end,
          next_fire_at = case when state = 'running' then now() + interval '1 second' else next_fire_at end
      where id = ${id} and locked_by = ${token}`);
  }

  /**
   * Takes in what arrived for the instance — worker results and signals, in order — in one
   * transaction with marking them processed, so each is applied exactly once.
   */
  private async absorb(run: Run): Promise<void> {
    await this.serial(run, () =>
      this.deps.db.transaction(async (tx) => {
        const id = run.row.id;
        const [current] = await queryRows<{ state: string }>(
          tx,
          sql`select state from ${instances} where id = ${id} and locked_by = ${run.row.lockedBy} for update`,
        );
        if (!current) throw new LeaseLostError(`lost the lease on instance ${id}`);
        run.attention = false;
        run.attentionCheckedAt = Date.now();
        if (current.state !== run.expected) {
          run.stoppedBy = current.state;
          return;
        }
        await tx.update(instances).set({ needsAttention: false }).where(eq(instances.id, id));
        const taskNodes = new Map<string, NodeState>();
        for (const node of Object.values(run.exec.nodes)) if (node.status === "suspended" && typeof node.data?.task_id === "string") taskNodes.set(node.data.task_id, node);
        for (const task of await this.deps.tasks.finished([...taskNodes.keys()], tx)) {
          const node = taskNodes.get(task.id)!;
          node.data = {
            ...node.data,
            resume: true,
            task: { state: task.state, output: task.output, error_message: task.errorMessage, error_retryable: task.errorRetryable },
          };
        }
        const signals = await pendingSignals(tx, id);
        if (signals.length === 0) return this.persist(tx, run);
        const before = run.expected;
        for (const signal of signals) this.applySignal(run, signal.signalType, signal.payload);
        await markSignalsProcessed(
          tx,
          signals.map((s) => s.id),
        );
        this.deps.metrics.signalsDelivered.inc(signals.length);
        if (run.expected === before) return this.persist(tx, run);
        const to = run.expected;
        run.expected = before;
        if (to === "cancelled") {
          for (const node of Object.values(run.exec.nodes)) if (typeof node.data?.task_id === "string" && !isTerminal(node.status)) run.cancelTasks.push(node.data.task_id);
        }
        const release = to !== "running";
        await this.persist(tx, run, { to, next: null, release });
        if (release) run.done = true;
      }),
    );
  }

  /** One signal's effect on the in-memory instance (persisted by absorb's transaction). */
  private applySignal(run: Run, type: string, payload: unknown): void {
    const context = run.context;
    const audit = Array.isArray(context.audit) ? (context.audit as unknown[]) : (context.audit = []);
    if (type !== "context_patch") audit.push({ event: "signal", signal_type: type, ...(type.startsWith("custom:") ? { payload } : {}), at: new Date().toISOString() });
    if (audit.length > AUDIT_LIMIT) audit.splice(0, audit.length - AUDIT_LIMIT);
    if (run.expected === "cancelled") return;
    const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
    switch (type) {
      case "pause":
        if (run.expected === "running") run.expected = "paused";
        return;
      case "resume":
        if (run.expected === "paused") run.expected = "running";
        return;
      case "cancel":
        if (this.inCancellationScope(run)) run.exec.cancelRequested = true;
        else run.expected = "cancelled";
        return;
      case "update_context": {
        if (!isObject(payload)) return;
        const data = { ...((context.data as Record<string, unknown> | undefined) ?? {}), ...payload };
        if (jsonBytes({ ...context, data }) > this.settings.maxContextBytes) {
          audit.push({ event: "signal_rejected", signal_type: type, reason: "context would exceed max_context_bytes", at: new Date().toISOString() });
          return;
        }
        context.data = data;
        return;
      }
      case "context_patch":
        if (isObject(payload)) Object.assign(context, normalizeContext({ ...context, ...payload }, "context"));
        return;
      case HUMAN_REVIEW_SIGNAL: {
        const target = isObject(payload) && typeof payload.block_id === "string" ? payload.block_id : undefined;
        for (const [key, node] of Object.entries(run.exec.nodes)) {
          if (node.status !== "suspended" || !node.data?.review_pending || node.data.review) continue;
          if (target !== undefined && blockIdOfKey(key) !== target) continue;
          node.data = { ...node.data, review: isObject(payload) ? payload : {}, resume: true };
          return;
        }
        return;
      }
    }
  }

  /** Whether a cancellation_scope is running: an external cancel then waits until it ends. */
  private inCancellationScope(run: Run): boolean {
    const index = new Map(run.sequence.index);
    for (const injected of Object.values(run.exec.injected ?? {})) for (const block of walkBlocks(injected)) index.set(block.id, block);
    return Object.entries(run.exec.nodes).some(([key, node]) => node.status === "running" && index.get(blockIdOfKey(key))?.type === "cancellation_scope");
  }
}

/** A claimed row as raw SQL returns it (`returning i.*`) → the Drizzle row shape. */
export function instanceFromSql(row: Record<string, unknown>): InstanceRow {
  const at = (v: unknown) => (v === null || v === undefined ? null : v instanceof Date ? v : new Date(String(v)));
  const json = <T>(v: unknown): T => (typeof v === "string" ? JSON.parse(v) : v) as T;
  return {
    id: row.id as string,
    sequenceId: row.sequence_id as string,
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
