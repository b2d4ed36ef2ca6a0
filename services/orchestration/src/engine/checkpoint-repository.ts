import { asc, eq, sql } from "drizzle-orm";
import type { Database, DatabaseExecutor } from "@cloudforet/db";
import { queryRows } from "@cloudforet/db";
import { blockOutputs, concurrencySlots, instances, signals, workerTasks, type InstanceRow, type SignalRow, type WorkerTaskRow } from "../db/schema";
import { dateOf } from "../db/raw-values";
import { markSignalsProcessed } from "../signals/repository";
import { workerTaskFromSql, type WorkerTaskRepository } from "../workers/repository";
import type { EngineEvents } from "./engine-events";
import { LeaseLostError, TERMINAL, hasTaskNodes, serial, type LeaseClaim, type NewOutput, type PassState, type StateChange } from "./pass-state";

/** What arrived for an instance since its last checkpoint: worker results and signals, in order. */
export interface Arrivals {
  tasks: WorkerTaskRow[];
  signals: SignalRow[];
}

/** What a checkpoint statement answers for one instance. */
type CheckpointResult = {
  previous_state: string;
  needs_attention: boolean;
  written: boolean;
  freed: boolean;
};

/** A checkpoint waiting to share a statement with others. */
interface GatheredCheckpoint {
  run: PassState;
  change?: StateChange;
  resolve(result: "written" | "attention"): void;
  reject(err: unknown): void;
}

/** Statements of gathered checkpoints written at once; more checkpoints gather meanwhile. */
const MAX_BATCHES_IN_FLIGHT = 2;
/** Checkpoints in one statement at most. */
const MAX_BATCH = 200;

/** The next batch: up to MAX_BATCH checkpoints, one per instance (a second one of an instance waits for the next batch). */
function takeBatch(gathering: GatheredCheckpoint[]): GatheredCheckpoint[] {
  const batch: GatheredCheckpoint[] = [];
  const seen = new Set<string>();
  const rest: GatheredCheckpoint[] = [];
  for (const entry of gathering) {
    if (batch.length < MAX_BATCH && !seen.has(entry.run.row.id)) {
      seen.add(entry.run.row.id);
      batch.push(entry);
    } else rest.push(entry);
  }
  gathering.splice(0, gathering.length, ...rest);
  return batch;
}

const outputRecord = (o: NewOutput) => ({ ...o, created_at: (o.createdAt as Date).toISOString(), instance_id: o.instanceId, block_id: o.blockId, output_size: o.outputSize });

/**
 * All SQL of an instance's execution state while an engine holds it: checkpoints (context, tree,
 * kv, outputs and state in one statement), taking in signals and worker results, letting go. Every
 * write is conditional on still holding the lease (`locked_by` = the pass's claim token), so a
 * recovered instance is never written by two engines; losing it throws LeaseLostError.
 */
export class CheckpointRepository {
  /** Checkpoints waiting for a statement, and the statements being written. */
  private readonly gathering: GatheredCheckpoint[] = [];
  private batchesInFlight = 0;

  constructor(
    private readonly db: Database,
    private readonly tasks: WorkerTaskRepository,
    /** A checkpoint that changed the instance's state reports it (watch streams). */
    private readonly events: Pick<EngineEvents, "instanceStateChanged">,
  ) {}

  /**
   * Writes a checkpoint (and a state change): one statement, or a transaction when worker tasks
   * change too. Checkpoints that several passes write at the same time share one statement (and
   * one commit): while MAX_BATCHES_IN_FLIGHT are being written, the next ones gather.
   */
  write(run: PassState, change?: StateChange): Promise<"written" | "attention"> {
    return serial(run, () => {
      if (this.needsTransaction(run, change)) return this.db.transaction((tx) => this.persist(tx, run, change));
      if (run.claimAs) return this.persist(this.db, run, change);
      return new Promise<"written" | "attention">((resolve, reject) => {
        this.gathering.push({ run, change, resolve, reject });
        this.pump();
      });
    });
  }

  private needsTransaction(run: PassState, change?: StateChange): boolean {
    const terminal = change !== undefined && TERMINAL.has(change.to);
    return run.cancelTasks.length > 0 || (terminal && hasTaskNodes(run.exec));
  }

  private pump(): void {
    while (this.batchesInFlight < MAX_BATCHES_IN_FLIGHT && this.gathering.length > 0) {
      const batch = takeBatch(this.gathering);
      this.batchesInFlight++;
      void this.writeBatch(batch).finally(() => {
        this.batchesInFlight--;
        this.pump();
      });
    }
  }

  /**
   * One statement for the batch (a lone checkpoint: its own statement). Only checkpoints that need
   * no transaction and are held by a lease gather (write), so each can also be written alone: when
   * the shared statement fails, each is, and only its own pass sees its error.
   */
  private async writeBatch(batch: GatheredCheckpoint[]): Promise<void> {
    const alone = ({ run, change, resolve, reject }: GatheredCheckpoint) => this.persist(this.db, run, change).then(resolve, reject);
    if (batch.length === 1) return alone(batch[0]);
    const inputs = batch.map(({ run, change }) => ({ run, change, outputs: run.pendingOutputs.slice() }));
    let rows: Map<string, CheckpointResult>;
    try {
      rows = await this.persistMany(inputs);
    } catch {
      await Promise.all(batch.map(alone));
      return;
    }
    for (const [i, { resolve, reject }] of batch.entries()) {
      const { run, change, outputs } = inputs[i];
      await this.settle(this.db, run, change, undefined, outputs, rows.get(run.row.id)).then(resolve, reject);
    }
  }

  /** The checkpoints of several passes (none held by a row lock alone, none changing worker tasks) in one statement. */
  private async persistMany(inputs: { run: PassState; change?: StateChange; outputs: NewOutput[] }[]): Promise<Map<string, CheckpointResult>> {
    const states = inputs.map(({ run, change }) => ({
      id: run.row.id,
      locked_by: run.row.lockedBy,
      context: run.context,
      execution: run.exec,
      kv: run.kv,
      has_change: change !== undefined,
      expected: run.expected,
      to_state: change?.to ?? null,
      next_fire_at: change?.next == null ? null : new Date(change.next).toISOString(),
      release: change?.release ?? false,
    }));
    const outputs = inputs.flatMap(({ outputs }) => outputs.map(outputRecord));
    const rows = await queryRows<CheckpointResult & { id: string }>(
      this.db,
      sql`with x as (
            select * from jsonb_to_recordset(${JSON.stringify(states)}::jsonb) as x(id uuid, locked_by text, context jsonb, execution jsonb,
              kv jsonb, has_change boolean, expected text, to_state text, next_fire_at timestamptz, release boolean)
          ), cur as (
            -- Locked in one order, so two such statements never wait on each other in a cycle.
            select i.id, i.state, i.needs_attention from ${instances} i join x on i.id = x.id and i.locked_by = x.locked_by
            order by i.id for update of i
          ), upd as (
            update ${instances} i
            set context = x.context, execution = x.execution, kv = x.kv, updated_at = now(),
                state = case when x.has_change and cur.state = x.expected then x.to_state else i.state end,
                next_fire_at = case when x.has_change and cur.state = x.expected then x.next_fire_at else i.next_fire_at end,
                locked_by = case when x.release then null else i.locked_by end,
                lease_expires_at = case when x.release then null else i.lease_expires_at end
            from cur join x on x.id = cur.id
            where i.id = cur.id and not (x.release and cur.needs_attention and cur.state = x.expected)
            returning i.id, i.state
          ), freed as (
            delete from ${concurrencySlots} s using upd
            where s.instance_id = upd.id and upd.state in ('completed', 'failed', 'cancelled')
            returning s.instance_id
          ), outs as (
            insert into ${blockOutputs} (id, instance_id, block_id, output, output_size, attempt, created_at)
            select o.id, o.instance_id, o.block_id, o.output, o.output_size, o.attempt, o.created_at
            from jsonb_to_recordset(${JSON.stringify(outputs)}::jsonb)
              as o(id uuid, instance_id uuid, block_id text, output jsonb, output_size int, attempt int, created_at timestamptz)
            where o.instance_id in (select id from upd)
            returning 1
          )
          select cur.id, cur.state as previous_state, cur.needs_attention,
                 exists (select 1 from upd where upd.id = cur.id) as written,
                 exists (select 1 from freed where freed.instance_id = cur.id) as freed
          from cur`,
    );
    return new Map(rows.map((row) => [String(row.id), row]));
  }

  /**
   * Writes the in-memory state (context, tree, kv, new outputs) in one statement if this engine
   * still holds the lease; with `change`, also the new state (unless someone else changed it
   * meanwhile). A release waits while a signal or worker result is pending: then nothing is written
   * and "attention" is returned, so the pass absorbs it first. Withdrawn worker tasks are written
   * with it (`exec` is then a transaction).
   */
  async persist(exec: DatabaseExecutor, run: PassState, change?: StateChange): Promise<"written" | "attention"> {
    const id = run.row.id;
    const expected = run.expected;
    const outputs = run.pendingOutputs.slice();
    const release = change?.release ?? false;
    // Held by `exec`'s row lock alone (PassState.claimAs): unless this lets go, it claims the instance.
    const claimAs = run.claimAs && !release ? run.claimAs : undefined;
    if (claimAs) change = { to: "running", next: null, release: false };
    const held = run.claimAs ? sql`locked_by is null` : sql`locked_by = ${run.row.lockedBy}`;
    const [row] = await queryRows<CheckpointResult>(
      exec,
      sql`with cur as (
            select id, state, needs_attention from ${instances} where id = ${id} and ${held} for update
          ), upd as (
            update ${instances} i
            set context = ${JSON.stringify(run.context)}::jsonb,
                execution = ${JSON.stringify(run.exec)}::jsonb,
                kv = ${JSON.stringify(run.kv)}::jsonb,
                updated_at = now(),
                state = case when ${change !== undefined} and cur.state = ${expected} then ${change?.to ?? null}::text else i.state end,
                next_fire_at = case when ${change !== undefined} and cur.state = ${expected} then ${change?.next == null ? null : new Date(change.next).toISOString()}::timestamptz else i.next_fire_at end,
                locked_by = case when ${release} then null else ${claimAs ? sql`${claimAs.token}::text` : sql`i.locked_by`} end,
                lease_expires_at = case when ${release} then null else ${claimAs ? sql`now() + ${claimAs.leaseMs}::int * interval '1 millisecond'` : sql`i.lease_expires_at`} end
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
    return this.settle(exec, run, change, claimAs, outputs, row);
  }

  /** What a checkpoint's statement answered (`row`; undefined: the lease is gone), applied to the pass. */
  private async settle(
    exec: DatabaseExecutor,
    run: PassState,
    change: StateChange | undefined,
    claimAs: LeaseClaim | undefined,
    outputs: NewOutput[],
    row: CheckpointResult | undefined,
  ): Promise<"written" | "attention"> {
    const id = run.row.id;
    const expected = run.expected;
    if (!row) throw new LeaseLostError(`lost the lease on instance ${id}`);
    const ours = row.previous_state === expected;
    if (!row.written) {
      run.attention = true;
      return "attention";
    }
    run.pendingOutputs.splice(0, outputs.length);
    if (run.claimAs) {
      if (claimAs) run.row = { ...run.row, lockedBy: claimAs.token };
      run.claimAs = undefined;
    }
    if (row.freed) run.freedSlot = true;
    const cancels = run.cancelTasks.splice(0);
    if (cancels.length > 0) await this.tasks.cancel(cancels, "cancelled", exec);
    if (change && ours && TERMINAL.has(change.to) && hasTaskNodes(run.exec)) await this.tasks.cancelForInstances([id], `instance ${change.to}`, exec);
    if (!ours) run.stoppedBy = row.previous_state;
    else if (change) run.expected = change.to;
    if (ours && change && change.to !== expected) this.events.instanceStateChanged(run.row, { from: expected, to: change.to, next: change.next });
    if (row.needs_attention) run.attention = true;
    return "written";
  }

  /**
   * In the absorbing transaction: locks the instance (LeaseLostError when the lease is gone) and,
   * if its state is still the one the pass expects, clears needs_attention and returns what
   * arrived — the finished ones of `taskIds` and the pending signals. Undefined when the state was
   * changed from outside (`run.stoppedBy` says to what).
   */
  async takeArrivals(tx: DatabaseExecutor, run: PassState, taskIds: string[]): Promise<Arrivals | undefined> {
    const id = run.row.id;
    // Lock, check and clear the flag in one statement; what arrived is read by the next one, whose
    // snapshot comes after the lock: a report committed meanwhile is either seen there or has set
    // the flag again (one statement could clear a flag set after its snapshot, losing that result).
    const [current] = await queryRows<{ state: string }>(
      tx,
      sql`with cur as (
            select id, state from ${instances} where id = ${id} and locked_by = ${run.row.lockedBy} for update
          ), cleared as (
            update ${instances} i set needs_attention = false from cur where i.id = cur.id and cur.state = ${run.expected} and i.needs_attention
          )
          select state from cur`,
    );
    if (!current) throw new LeaseLostError(`lost the lease on instance ${id}`);
    run.attention = false;
    run.attentionCheckedAt = Date.now();
    if (current.state !== run.expected) {
      run.stoppedBy = current.state;
      return undefined;
    }
    // Finished tasks and pending signals in one round trip (signals rarely come; tasks in order of report don't matter).
    const rows = await queryRows<{ kind: "task" | "signal"; row: Record<string, unknown> | string }>(
      tx,
      sql`select 'task' as kind, to_jsonb(w) as row from ${workerTasks} w
          where w.id in (select (jsonb_array_elements_text(${JSON.stringify(taskIds)}::jsonb))::uuid) and w.state in ('completed', 'failed')
          union all
          select 'signal', to_jsonb(s) from ${signals} s where s.instance_id = ${id} and not s.processed`,
    );
    const tasks: WorkerTaskRow[] = [];
    const pending: SignalRow[] = [];
    for (const { kind, row: raw } of rows) {
      const row = typeof raw === "string" ? (JSON.parse(raw) as Record<string, unknown>) : raw;
      if (kind === "task") tasks.push(workerTaskFromSql(row));
      else pending.push(signalFromSql(row));
    }
    pending.sort((a, b) => a.seq - b.seq);
    return { tasks, signals: pending };
  }

  /** The signals were applied (in the same transaction): each is applied exactly once. */
  markSignalsProcessed(tx: DatabaseExecutor, signalIds: string[]): Promise<void> {
    return markSignalsProcessed(tx, signalIds);
  }

  /** Whether a signal or worker result waits for the instance (sent through another replica). */
  async needsAttention(instanceId: string): Promise<boolean> {
    const [row] = await this.db.select({ attention: instances.needsAttention }).from(instances).where(eq(instances.id, instanceId));
    return row?.attention ?? false;
  }

  /** The latest output of each block of the instance. */
  async latestOutputs(instanceId: string): Promise<Record<string, unknown>> {
    const rows = await this.db
      .select({ blockId: blockOutputs.blockId, output: blockOutputs.output })
      .from(blockOutputs)
      .where(eq(blockOutputs.instanceId, instanceId))
      .orderBy(asc(blockOutputs.createdAt), asc(blockOutputs.seq));
    return Object.fromEntries(rows.map((r) => [r.blockId, r.output]));
  }

  /** The state was changed from outside (PATCH /state) while we held the instance: save nothing more, let go. */
  async letGo(run: PassState): Promise<void> {
    await this.db
      .update(instances)
      .set({ lockedBy: null, leaseExpiresAt: null })
      .where(sql`${instances.id} = ${run.row.id} and ${instances.lockedBy} = ${run.row.lockedBy}`);
  }

  /** After an unexpected error: back to scheduled in a second, without writing this pass's progress. */
  async abandon(id: string, token: string | null): Promise<void> {
    await this.db.execute(sql`update ${instances}
      set locked_by = null, lease_expires_at = null,
          state = case when state = 'running' then 'scheduled' else state end,
          next_fire_at = case when state = 'running' then now() + interval '1 second' else next_fire_at end
      where id = ${id} and locked_by = ${token}`);
  }
}

/** A signal as `to_jsonb` returns it → the Drizzle row shape. */
function signalFromSql(row: Record<string, unknown>): SignalRow {
  return {
    id: row.id as string,
    seq: Number(row.seq),
    instanceId: row.instance_id as string,
    signalType: row.signal_type as string,
    payload: row.payload ?? null,
    processed: Boolean(row.processed),
    createdAt: dateOf(row.created_at)!,
    processedAt: dateOf(row.processed_at),
  };
}
