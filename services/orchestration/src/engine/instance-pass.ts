import type { Database, DatabaseExecutor, Transaction } from "@cloudforet/db";
import type { InstanceRow, WorkerTaskRow } from "../db/schema";
import type { Logger } from "pino";
import type { ConcurrencySlots } from "../flow/concurrency-slots";
import { jsonBytes } from "../instances/rules";
import type { CheckpointRepository } from "./checkpoint-repository";
import { cancelChildren, runningChildren, subSequenceParentOf } from "./handlers/sub-sequence";
import { InstanceRepository } from "../instances/repository";
import type { EngineEvents } from "./engine-events";
import type { EngineMetrics } from "./engine-metrics";
import { Walker, blockIdOfKey, type WalkResult } from "./interpreter";
import { isTerminal } from "./execution-state";
import { walkBlocks, type Block } from "../definitions/blocks";
import { LeaseLostError, newPassState, serial, withdrawOpenTasks, type LeaseClaim, type PassState } from "./pass-state";
import type { SequenceCache } from "./sequence-cache";
import { applySignals, applyTaskResults, waitingTaskNodes } from "./signal-application";
import type { StepExecutor } from "./step-executor";

export interface PassSettings {
  maxContextBytes: number;
  /** After this much continuous work a pass re-schedules the instance so others get a turn. */
  maxPassMs: number;
}

export interface PassDependencies {
  db: Database;
  sequences: SequenceCache;
  checkpoints: CheckpointRepository;
  steps: StepExecutor;
  metrics: EngineMetrics;
  logger: Logger;
  /** Concurrency slots: an instance that ends wakes the waiters of its key. */
  slots: ConcurrencySlots;
  /** Hears of instances due again (here, or anywhere when slot waiters were woken). */
  events: Pick<EngineEvents, "instanceDue" | "instancesDue" | "instanceSignalled" | "stepCommitted">;
}

/** How often a long pass looks for signals sent through another replica (same-process ones arrive as hints). */
const ATTENTION_CHECK_MS = 250;
const PARKED = new Set(["scheduled", "waiting", "paused"]);
/** In-transaction step batches one round runs before it checkpoints (a chain of them keeps a transaction open). */
const MAX_BATCHES_PER_ROUND = 8;

/** What a round did, for after its transaction commits. */
interface RoundOutcome {
  /** Steps ran inside the transaction (worker tasks may have been dispatched). */
  stepped: boolean;
  /** One of them may have made other instances due. */
  wakes: boolean;
  /** The round parked the instance and let go of it. */
  parked?: PassEnd;
}

/** A pass whose first round ran in a worker report's transaction (InstancePass.advanceIn). */
export interface AdvancedPass {
  run: PassState;
  outcome: RoundOutcome;
  /** When the pass started (performance.now()). */
  started: number;
}

/** How a pass ends after a walk: the state the instance moves to. */
interface PassEnd {
  to: string;
  next: number | null;
  error?: string;
  failedBlock?: string;
}

/**
 * Runs one claimed instance as far as it can go: absorbs its signals and worker results, walks its
 * tree, executes the ready steps (in parallel where the tree allows; StepExecutor), checkpoints
 * (CheckpointRepository), and finally parks (scheduled at its next timer, waiting for a worker or a
 * signal, paused) or ends it. Every write is conditional on still holding the lease, so a
 * recovered instance is never run twice at once.
 */
export class InstancePass {
  /** The instances this engine is running now, for hints that something arrived for one of them. */
  private readonly active = new Map<string, PassState>();
  /** Flags sub-sequence parents and children for their engines. */
  private readonly instanceRows: InstanceRepository;

  constructor(
    private readonly deps: PassDependencies,
    private readonly settings: PassSettings,
  ) {
    this.instanceRows = new InstanceRepository(deps.db);
  }

  /** A signal or worker result for `instanceId` was just committed in this process: true when a pass here runs it (and takes it in). */
  notify(instanceId: string): boolean {
    const run = this.active.get(instanceId);
    if (!run) return false;
    run.attention = true;
    // Done: released, or about to be — the caller claims it again; `run`'s end re-reports a hint
    // that came after the release committed but before the pass saw it (see `run`).
    return !run.done;
  }

  /** `slotless`: a waiter for a concurrency slot claimed only to take in its signals. */
  async run(row: InstanceRow, options: { slotless?: boolean } = {}): Promise<void> {
    await this.guarded(row, performance.now(), async () => {
      const sequence = await this.deps.sequences.get(row.sequenceId);
      const run = newPassState(row, sequence, options.slotless ?? false);
      this.active.set(row.id, run);
      if (!sequence) {
        await this.finish(run, { to: "failed", next: null, error: `sequence ${row.sequenceId} not found` });
        return;
      }
      await this.drive(run);
    });
  }

  /**
   * The first round of an instance whose row a worker's report locked for this engine, in the
   * report's transaction `tx` (ReportAdvance): the task's result — just written by that report, so not read
   * back — is taken in, the steps it readies run inside `tx` (the next worker task dispatched) and
   * the instance parks, as `round` does. `row` is as stored (waiting, held by `tx`'s row lock
   * alone); a checkpoint that does not park it claims it with `lease`. Resume the returned pass
   * once `tx` committed (`resume`), or drop it if `tx` failed (`drop`). Throws, writing nothing,
   * when the sequence is not found.
   */
  async advanceIn(tx: Transaction, row: InstanceRow, task: WorkerTaskRow, lease: LeaseClaim): Promise<AdvancedPass> {
    const started = performance.now();
    const sequence = await this.deps.sequences.get(row.sequenceId);
    if (!sequence) throw new Error(`sequence ${row.sequenceId} not found`);
    const run = newPassState(row, sequence, false);
    run.claimAs = { token: lease.token, leaseMs: lease.leaseMs };
    this.active.set(row.id, run);
    try {
      const outcome = await this.roundIn(tx, run, Date.now() + this.settings.maxPassMs, { task });
      return { run, outcome, started };
    } catch (err) {
      this.drop({ run });
      throw err;
    }
  }

  /** After the advancing transaction committed: what its round reported, then the pass goes on until the instance parks or ends. */
  async resume(advanced: AdvancedPass): Promise<void> {
    await this.guarded(advanced.run.row, advanced.started, async () => {
      this.afterRound(advanced.run, advanced.outcome);
      await this.drive(advanced.run);
    });
  }

  /** The advancing transaction failed: nothing of the pass was written. */
  drop(advanced: Pick<AdvancedPass, "run">): void {
    if (this.active.get(advanced.run.row.id) === advanced.run) this.active.delete(advanced.run.row.id);
  }

  /** Runs `work`, a pass over the claimed `row`, with the pass's error handling and its end (wake-ups, metrics). */
  private async guarded(row: InstanceRow, started: number, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (err) {
      if (err instanceof LeaseLostError) {
        this.deps.logger.debug({ instance_id: row.id }, "lease lost; another engine owns the instance now");
        return;
      }
      const log = this.deps.logger.child({ instance_id: row.id });
      log.error({ err }, "instance pass failed; releasing it for a later retry");
      await this.deps.checkpoints.abandon(row.id, row.lockedBy).catch((releaseErr) => log.warn({ err: releaseErr }, "could not release the instance; its lease will expire"));
    } finally {
      const run = this.active.get(row.id);
      this.active.delete(row.id);
      // A result or signal reported while the release was committing found this pass still here
      // and was left to it: the instance is released and due now, so have it claimed.
      if (run?.done && run.attention && !run.stoppedBy) this.deps.events.instanceSignalled(row.id);
      this.deps.metrics.instanceProcessing.observe((performance.now() - started) / 1000);
      if (run?.freedSlot && row.concurrencyKey !== null) await this.wakeWaiters(row);
      else if (run?.slotless && run.done && !run.stoppedBy && run.expected === "scheduled") await this.requeue(row);
    }
  }

  /** After the commit that freed a slot: its waiters become due and are claimed now, here or elsewhere. */
  private async wakeWaiters(row: InstanceRow): Promise<void> {
    try {
      const woken = await this.deps.slots.wake({ domainId: row.domainId, tenantId: row.tenantId, concurrencyKey: row.concurrencyKey! });
      if (woken > 0) this.deps.events.instancesDue();
    } catch (err) {
      this.deps.logger.warn({ err, instance_id: row.id }, "could not wake the waiters of a concurrency key; the periodic sweep will");
    }
  }

  /** A waiter that took in its signals and parked again goes back in line for a slot. */
  private async requeue(row: InstanceRow): Promise<void> {
    try {
      await this.deps.slots.requeue(row);
      this.deps.events.instanceDue(row.id);
    } catch (err) {
      this.deps.logger.warn({ err, instance_id: row.id }, "could not put a waiter back in line for its concurrency slot");
    }
  }

  private async drive(run: PassState): Promise<void> {
    const deadline = Date.now() + this.settings.maxPassMs;
    for (;;) {
      if (run.done) return;
      if (run.stoppedBy) return this.letGo(run);
      if (!run.attention && Date.now() - run.attentionCheckedAt > ATTENTION_CHECK_MS) await this.checkAttention(run);
      if (run.attention) {
        await this.round(run, deadline);
        continue;
      }
      if (run.expected === "paused") {
        if (await this.finish(run, { to: "paused", next: null })) return;
        continue;
      }
      if (run.slotless) {
        // Signals taken in, still no slot: back to waiting (no fire time; the key's next free slot wakes it).
        if (await this.finish(run, { to: "scheduled", next: null })) return;
        continue;
      }
      const walk = await this.walk(run);
      run.cancelTasks.push(...walk.cancelledTasks);
      const end = this.endOf(run, walk, deadline);
      if (end) {
        if (await this.finish(run, end)) return;
        continue;
      }
      if (walk.ready.every((step) => this.deps.steps.runsInside(step))) await this.round(run, deadline, walk);
      else await Promise.all(walk.ready.map((step) => this.deps.steps.execute(run, step)));
    }
  }

  /**
   * One transaction, one checkpoint: takes in what arrived (when flagged), runs the ready steps
   * that can run inside it (a worker task dispatched, a trigger fired) and, when the walk after
   * them parks the instance (waiting for the worker, a timer), parks it too. So a worker's result
   * moves the instance to its next task in one commit instead of three, and the worker waiting for
   * that task is woken by it. `walk`: the ready steps found by a walk just made (no arrivals).
   */
  private async round(run: PassState, deadline: number, walk?: WalkResult): Promise<void> {
    const outcome = await serial(run, () => this.deps.db.transaction((tx) => this.roundIn(tx, run, deadline, walk && { walk })));
    this.afterRound(run, outcome);
  }

  /**
   * The round's work in its transaction. `from`: the ready steps of a walk just made (nothing
   * arrived), or a worker's result its report just wrote in `tx`; neither: take in what arrived.
   */
  private async roundIn(tx: Transaction, run: PassState, deadline: number, from?: { walk: WalkResult } | { task: WorkerTaskRow }): Promise<RoundOutcome> {
    const outcome: RoundOutcome = { stepped: false, wakes: false };
    const walk = from && "walk" in from ? from.walk : undefined;
    const task = from && "task" in from ? from.task : undefined;
    if (task) takeInTask(run, task);
    else if (!walk && !(await this.takeIn(tx, run))) return outcome;
    if (!walk && !task && (run.done || run.stoppedBy || run.slotless || run.expected !== "running")) {
      await this.deps.checkpoints.persist(tx, run);
      return outcome;
    }
    let ready = walk?.ready;
    if (!ready) {
      const first = await this.walk(run);
      run.cancelTasks.push(...first.cancelledTasks);
      const end = this.endOf(run, first, deadline);
      ready = end ? [] : first.ready;
      outcome.parked = end && simplePark(end);
      if (ready.some((step) => !this.deps.steps.runsInside(step))) ready = []; // the drive loop runs them
    }
    // Steps that become ready by the ones just run (a worker's result resumes step k, which
    // readies step k+1) run in this transaction too, so the result, the next dispatch and the
    // park commit together; bounded so a long chain of in-transaction steps still checkpoints.
    for (let batch = 0; ready.length > 0; batch++) {
      for (const step of ready) if (await this.deps.steps.executeInside(tx, run, step)) outcome.wakes = true;
      outcome.stepped = true;
      const after = await this.walk(run);
      run.cancelTasks.push(...after.cancelledTasks);
      const end = this.endOf(run, after, deadline);
      outcome.parked = end && simplePark(end);
      if (end || batch + 1 >= MAX_BATCHES_PER_ROUND || !after.ready.every((step) => this.deps.steps.runsInside(step))) break;
      ready = after.ready;
    }
    const result = await this.deps.checkpoints.persist(tx, run, outcome.parked && { ...outcome.parked, release: true });
    // Not released (a result is waiting; taken in next): the steps' checkpoint must still commit with them.
    if (result === "attention") {
      outcome.parked = undefined;
      await this.deps.checkpoints.persist(tx, run);
    }
    return outcome;
  }

  /** Once a round's transaction committed: the workers hear of the tasks it dispatched, and a parked instance is let go. */
  private afterRound(run: PassState, { stepped, wakes, parked }: RoundOutcome): void {
    if (stepped) this.deps.events.stepCommitted(wakes);
    if (parked) {
      run.done = true;
      if (run.stoppedBy) {
        if (run.stoppedBy === "scheduled") this.deps.events.instanceDue(run.row.id);
      } else if (parked.next !== null) this.deps.events.instanceDue(run.row.id, parked.next);
    }
  }

  private async checkAttention(run: PassState): Promise<void> {
    run.attentionCheckedAt = Date.now();
    if (await this.deps.checkpoints.needsAttention(run.row.id)) run.attention = true;
  }

  /** Whether the pass ends after this walk, and how. */
  private endOf(run: PassState, walk: WalkResult, deadline: number): PassEnd | undefined {
    if (jsonBytes(run.context) > this.settings.maxContextBytes) return { to: "failed", next: null, error: `context exceeds max_context_bytes (${this.settings.maxContextBytes})` };
    if (run.exec.cancelRequested && !walk.inCancellationScope) return { to: "cancelled", next: null };
    if (walk.status === "completed") return { to: "completed", next: null };
    if (walk.status === "failed") return { to: "failed", next: null, error: walk.error, failedBlock: walk.failedBlock };
    if (walk.ready.length === 0) return { to: walk.waitingExternal ? "waiting" : "scheduled", next: walk.wakeAt ?? (walk.waitingExternal ? null : Date.now() + 1_000) };
    if (Date.now() > deadline) return { to: "scheduled", next: Date.now() };
    return undefined;
  }

  private async walk(run: PassState): Promise<WalkResult> {
    const scope = await this.deps.steps.scopeOf(run);
    return new Walker(run.exec, run.sequence.blocks, { now: Date.now(), timezone: run.row.timezone, random: Math.random, scope }).walk();
  }

  /**
   * Ends the pass: the instance parks (scheduled, waiting, paused) or ends (completed, failed,
   * cancelled). False when a signal or worker result arrived meanwhile: the pass goes on with it.
   */
  private async finish(run: PassState, end: PassEnd): Promise<boolean> {
    const { to, next } = end;
    const runtime = (run.context.runtime ??= {}) as Record<string, unknown>;
    const before = { error: runtime.error, failed_block: runtime.failed_block, cancels: run.cancelTasks.length };
    if (to === "failed") {
      runtime.error = end.error ?? "failed";
      if (end.failedBlock) runtime.failed_block = end.failedBlock;
    }
    if (to === "cancelled") withdrawOpenTasks(run);
    const expectedBefore = run.expected;
    const result = await this.deps.checkpoints.write(run, { to, next, release: true });
    if (result === "attention") {
      if (to === "failed") Object.assign(runtime, { error: before.error, failed_block: before.failed_block });
      run.cancelTasks.splice(before.cancels);
      return false;
    }
    run.done = true;
    if (run.stoppedBy) {
      // Someone changed the state while we ran; our progress is saved, the state is theirs.
      if (run.stoppedBy === "scheduled") this.deps.events.instanceDue(run.row.id);
      return true;
    }
    const metrics = this.deps.metrics;
    if (to === "completed" && expectedBefore !== to) metrics.instancesCompleted.inc();
    if (to === "failed" && expectedBefore !== to) metrics.instancesFailed.inc();
    if (PARKED.has(to) && next !== null) this.deps.events.instanceDue(run.row.id, next);
    if (TERMINAL_STATES.has(to)) await this.ended(run, to);
    return true;
  }

  /**
   * Sub-sequences: a cancelled parent cancels its running children; a child that ended wakes its
   * parent (waiting in its sub_sequence block) at once. Best effort after the commit: a lost
   * wake-up is caught by the parent's periodic look at its child, a lost cancel is logged.
   */
  private async ended(run: PassState, to: string): Promise<void> {
    try {
      const children = to === "cancelled" ? runningChildren(run.exec) : [];
      if (children.length > 0) {
        await this.deps.db.transaction((tx) => cancelChildren(tx, this.instanceRows, children));
        for (const child of children) this.deps.events.instanceSignalled(child);
      }
      const parent = subSequenceParentOf(run.row.metadata);
      if (parent) {
        await this.instanceRows.markNeedsAttention(parent, this.deps.db, { waitingToScheduled: true });
        this.deps.events.instanceSignalled(parent);
      }
    } catch (err) {
      this.deps.logger.warn({ err, instance_id: run.row.id }, "could not tell the sub-sequence parent or children that the instance ended");
    }
  }

  /** The state was changed from outside (PATCH /state) while we held the instance: save nothing more, let go. */
  private async letGo(run: PassState): Promise<void> {
    await this.deps.checkpoints.letGo(run);
    run.done = true;
    if (run.stoppedBy === "scheduled") this.deps.events.instanceDue(run.row.id);
    if (run.stoppedBy && TERMINAL_STATES.has(run.stoppedBy)) await this.ended(run, run.stoppedBy);
  }

  /**
   * Takes in what arrived for the instance — worker results and signals, in order — in `tx`, with
   * marking them processed, so each is applied exactly once. True when the instance runs on (its
   * checkpoint is then the caller's to write in `tx`); false when nothing more is to be written
   * (the state was changed from outside, or a signal changed it and that was written).
   */
  private async takeIn(tx: DatabaseExecutor, run: PassState): Promise<boolean> {
    const { checkpoints } = this.deps;
    const waiting = waitingTaskNodes(run.exec);
    const arrivals = await checkpoints.takeArrivals(tx, run, [...waiting.keys()]);
    if (!arrivals) return false;
    applyTaskResults(waiting, arrivals.tasks);
    resumeSubSequences(run);
    const { signals } = arrivals;
    if (signals.length === 0) return true;
    let to = applySignals(run, signals, this.settings.maxContextBytes);
    if (to === "cancelled" && holdsCancel(run)) {
      run.exec.cancelRequested = true;
      to = undefined;
    }
    await checkpoints.markSignalsProcessed(
      tx,
      signals.map((s) => s.id),
    );
    this.deps.metrics.signalsDelivered.inc(signals.length);
    if (to === undefined) return true;
    if (to === "cancelled") withdrawOpenTasks(run);
    const release = to !== "running";
    const children = to === "cancelled" ? runningChildren(run.exec) : [];
    await checkpoints.persist(tx, run, { to, next: null, release });
    if (children.length > 0) await cancelChildren(tx, this.instanceRows, children);
    const parent = to === "cancelled" ? subSequenceParentOf(run.row.metadata) : undefined;
    if (parent) await this.instanceRows.markNeedsAttention(parent, tx, { waitingToScheduled: true });
    if (release) run.done = true;
    return false;
  }
}

const TERMINAL_STATES = new Set(["completed", "failed", "cancelled"]);

/** Something arrived: sub_sequence blocks waiting for a child look at it again (it may have ended). */
function resumeSubSequences(run: PassState): void {
  for (const node of Object.values(run.exec.nodes)) {
    if (node.status === "suspended" && typeof node.data?.child_instance_id === "string") node.data = { ...node.data, resume: true };
  }
}

/** A worker's result, just reported, lands on the step waiting for it (if one still is). */
function takeInTask(run: PassState, task: WorkerTaskRow): void {
  const waiting = waitingTaskNodes(run.exec);
  if (waiting.has(task.id)) applyTaskResults(waiting, [task]);
  resumeSubSequences(run);
}

/** A step with `cancellable: false` has been reached and has not ended: an external cancel waits for it. */
function holdsCancel(run: PassState): boolean {
  const index = new Map<string, Block>(run.sequence.index);
  for (const injected of Object.values(run.exec.injected ?? {})) for (const block of walkBlocks(injected)) index.set(block.id, block);
  return Object.entries(run.exec.nodes).some(([key, node]) => {
    const block = index.get(blockIdOfKey(key));
    return !isTerminal(node.status) && block?.type === "step" && block.cancellable === false;
  });
}

/** The ends a batched round writes itself: parking to wait (no metrics, no slot to free). */
function simplePark(end: PassEnd): PassEnd | undefined {
  return end.to === "waiting" || end.to === "scheduled" ? end : undefined;
}
