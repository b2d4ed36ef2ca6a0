// Over 300 lines: every change a caller can make to an instance (create, state, context, signals,
// retry, bulk state) sits together, since they share the transition table and its checks.
import { randomUUID } from "node:crypto";
import { and, eq, inArray, sql } from "drizzle-orm";
import { invalidParameter, missingParameter, notFound } from "@cloudforet/errors";
import type { Database, DatabaseExecutor } from "@cloudforet/db";
import { requireInScope, type OwnerScope } from "../access/tenants";
import { instances, sequences, type BlockOutputRow, type InstanceRow } from "../db/schema";
import type { Block } from "../definitions/blocks";
import type { EngineEvents } from "../engine/engine-events";
import { emptyExecution } from "../engine/execution-state";
import { resetFailedNodes } from "../engine/execution-reset";
import { cancelChildrenOfCancelled } from "../engine/handlers/sub-sequence";
import { isUuid } from "../ids";
import { requireText } from "../sequences/sequences";
import { enqueueSignal } from "../signals/repository";
import type { WorkerTaskRepository } from "../workers/repository";
import { filterCondition, type InstanceFilter, type InstanceRepository, type NewInstanceRow, type Page } from "./repository";
import {
  NON_TERMINAL_STATES,
  PRIORITY_RANK,
  TERMINAL_STATES,
  canTransition,
  checkContextSize,
  illegalStateChange,
  normalizeContext,
  parsePriority,
  statesLeadingTo,
  validateSignalType,
  validateTimezone,
  type InstanceState,
} from "./rules";

/** What a caller gives to create an instance (seed 002 "Create Instance"); validated here. */
export interface NewInstance {
  sequenceId: unknown;
  /** The caller's domain ("" without token verification). */
  domainId: string;
  tenantId: unknown;
  namespace: unknown;
  priority?: unknown;
  timezone?: unknown;
  metadata?: unknown;
  context?: unknown;
  nextFireAt?: Date;
  concurrencyKey?: unknown;
  maxConcurrency?: unknown;
  idempotencyKey?: unknown;
}

export interface InstanceSettings {
  maxContextBytes: number;
}

export const MAX_BATCH = 10_000;
export const MAX_PAGE = 1_000;

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

function optionalText(value: unknown, parameter: string, max = 256): string | null {
  if (value === undefined || value === null || value === "") return null;
  if (typeof value !== "string") throw invalidParameter(`${parameter} must be a string`, { parameter });
  if (value.length > max) throw invalidParameter(`${parameter} must be at most ${max} characters`, { parameter });
  return value;
}

/** Offset and limit of a list: limit 100 by default, at most 1000. */
export function pageOf(offset: unknown, limit: unknown): Page {
  const o = offset === undefined || offset === null || offset === "" ? 0 : Number(offset);
  const l = limit === undefined || limit === null || limit === "" || limit === 0 ? 100 : Number(limit);
  if (!Number.isInteger(o) || o < 0) throw invalidParameter("offset must be an integer ≥ 0", { parameter: "offset" });
  if (!Number.isInteger(l) || l < 1 || l > MAX_PAGE) throw invalidParameter(`limit must be an integer from 1 to ${MAX_PAGE}`, { parameter: "limit" });
  return { offset: o, limit: l };
}

/**
 * Instances: creation (with idempotency keys), reads, lists, and every change a caller can make —
 * state, context, signals, retry, bulk state. The engine runs them; changes to an instance the
 * engine holds are seen by it at its next checkpoint.
 */
export class Instances {
  private readonly db: Database;

  constructor(
    private readonly repo: InstanceRepository,
    private readonly tasks: WorkerTaskRepository,
    private readonly settings: InstanceSettings,
    /** Hears of each commit that made instances due now, or gave one a signal (wakes the schedulers). */
    private readonly events: Pick<EngineEvents, "instancesDue" | "instanceDue" | "instanceSignalled">,
  ) {
    this.db = repo.db;
  }

  /** Validates one instance's fields; `at` prefixes parameter names ("instances[3]."). */
  prepare(input: NewInstance, at = ""): NewInstanceRow {
    const p = (field: string) => `${at}${field}`;
    if (input.sequenceId === undefined || input.sequenceId === null || input.sequenceId === "") throw missingParameter(p("sequence_id"));
    if (!isUuid(input.sequenceId)) throw invalidParameter(`${p("sequence_id")} must be a UUID`, { parameter: p("sequence_id"), value: String(input.sequenceId) });
    const tenantId = requireText(input.tenantId, p("tenant_id"));
    const namespace = requireText(input.namespace, p("namespace"), 128);
    const priority = parsePriority(input.priority, p("priority"));
    const timezone = validateTimezone(input.timezone, p("timezone"));
    if (input.metadata !== undefined && input.metadata !== null && !isObject(input.metadata)) throw invalidParameter(`${p("metadata")} must be an object`, { parameter: p("metadata") });
    const context = normalizeContext(input.context, p("context"));
    // An instance created without a context has the four empty sections: nothing to measure.
    if (input.context !== undefined && input.context !== null) checkContextSize(context, this.settings.maxContextBytes, p("context"));
    const maxConcurrency = input.maxConcurrency === undefined || input.maxConcurrency === null ? null : Number(input.maxConcurrency);
    if (maxConcurrency !== null && (!Number.isInteger(maxConcurrency) || maxConcurrency < 1)) {
      throw invalidParameter(`${p("max_concurrency")} must be an integer ≥ 1`, { parameter: p("max_concurrency") });
    }
    if (input.nextFireAt !== undefined && Number.isNaN(input.nextFireAt.getTime())) throw invalidParameter(`${p("next_fire_at")} is not a time`, { parameter: p("next_fire_at") });
    return {
      id: randomUUID(),
      sequenceId: input.sequenceId.toLowerCase(),
      domainId: input.domainId,
      tenantId,
      namespace,
      state: "scheduled",
      nextFireAt: input.nextFireAt ?? new Date(),
      priority,
      priorityRank: PRIORITY_RANK[priority],
      timezone,
      metadata: (input.metadata as Record<string, unknown> | undefined) ?? {},
      context,
      execution: emptyExecution(),
      kv: {},
      concurrencyKey: optionalText(input.concurrencyKey, p("concurrency_key")),
      maxConcurrency,
      idempotencyKey: optionalText(input.idempotencyKey, p("idempotency_key")),
    };
  }

  /** Creates an instance, or returns the one that already has its idempotency key (deduplicated). */
  async create(input: NewInstance): Promise<{ id: string; deduplicated: boolean }> {
    const row = this.prepare(input);
    await this.requireSequences([row]);
    const result = await this.insertOrFind(row, this.db);
    if (!result.deduplicated) this.announce([row]);
    return result;
  }

  /** The create of emit_event, inside the caller's transaction (the sequence is known to exist). */
  async insertOrFind(row: NewInstanceRow, exec: DatabaseExecutor): Promise<{ id: string; deduplicated: boolean }> {
    const [id] = await this.repo.insertMany([row], exec);
    if (id) return { id, deduplicated: false };
    const existing = row.idempotencyKey ? await this.repo.findByIdempotencyKey(row, row.idempotencyKey, exec) : undefined;
    if (!existing) throw new Error(`instance ${row.id} was neither inserted nor found by its idempotency key`);
    return { id: existing.id, deduplicated: true };
  }

  /** All or nothing, except that rows whose idempotency key exists are skipped (not counted). */
  async batchCreate(items: NewInstance[]): Promise<{ count: number }> {
    if (!Array.isArray(items)) throw invalidParameter("instances must be an array", { parameter: "instances" });
    // Orch8's client sends an empty batch as is; the engine answers it with nothing created.
    if (items.length === 0) return { count: 0 };
    if (items.length > MAX_BATCH) throw invalidParameter(`instances holds ${items.length}; at most ${MAX_BATCH} per batch`, { parameter: "instances" });
    const rows = items.map((item, i) => this.prepare(item, `instances[${i}].`));
    await this.requireSequences(rows, "instances");
    const count = await this.repo.insertAll(rows);
    // Rows skipped for their idempotency key are announced too: a claim that finds nothing more is harmless.
    if (count > 0) this.announce(rows);
    return { count };
  }

  /**
   * Tells the scheduler of new instances: those due now are claimed at once; for those due later,
   * the timer is set to their fire times (no claim now, which would find nothing: a batch of
   * tomorrow's instances used to cost a claim and a look-up of the next fire time per call).
   */
  private announce(rows: NewInstanceRow[]): void {
    const now = Date.now();
    let dueNow = 0;
    for (const row of rows) {
      const at = (row.nextFireAt as Date | null | undefined)?.getTime() ?? now;
      if (at <= now) dueNow++;
      else this.events.instanceDue(row.id, at);
    }
    if (dueNow > 0) this.events.instancesDue(dueNow);
  }

  /** NOT_FOUND unless every row's sequence exists in the row's tenant. */
  private async requireSequences(rows: NewInstanceRow[], list?: string): Promise<void> {
    const wanted = [...new Set(rows.map((r) => r.sequenceId))];
    const found = await this.db.select({ id: sequences.id, domainId: sequences.domainId, tenantId: sequences.tenantId }).from(sequences).where(inArray(sequences.id, wanted));
    const ownerOf = new Map(found.map((s) => [s.id, s]));
    rows.forEach((row, i) => {
      const owner = ownerOf.get(row.sequenceId);
      if (owner?.domainId !== row.domainId || owner.tenantId !== row.tenantId) {
        const parameter = list ? `${list}[${i}].sequence_id` : "sequence_id";
        throw notFound(`sequence ${row.sequenceId} not found`, { parameter, sequence_id: row.sequenceId });
      }
    });
  }

  async get(id: string, scope?: OwnerScope, exec: DatabaseExecutor = this.db, forUpdate = false): Promise<InstanceRow> {
    const row = isUuid(id) ? await this.repo.getById(id.toLowerCase(), exec, { forUpdate }) : undefined;
    return requireInScope(row, scope, "instance", id);
  }

  async list(filter: InstanceFilter, page: Page, options: { withTotal?: boolean; dlq?: boolean } = {}): Promise<{ results: InstanceRow[]; totalCount: number }> {
    if (filter.sequenceId !== undefined && !isUuid(filter.sequenceId)) throw invalidParameter("sequence_id must be a UUID", { parameter: "sequence_id" });
    const effective: InstanceFilter = options.dlq ? { ...filter, states: ["failed"] } : filter;
    const results = await this.repo.list(effective, page, options.dlq ? "updated" : "created");
    const totalCount = options.withTotal ? await this.repo.count(effective) : results.length;
    return { results, totalCount };
  }

  /** Moves an instance to `to` if the seed's table allows it (ERROR_CONFLICT / FAILED_PRECONDITION otherwise). */
  async updateState(id: string, to: InstanceState, nextFireAt: Date | undefined, scope?: OwnerScope): Promise<InstanceRow> {
    const row = await this.db.transaction(async (tx) => {
      const current = await this.get(id, scope, tx, true);
      const from = current.state as InstanceState;
      if (!canTransition(from, to)) throw illegalStateChange(`cannot move instance from ${from} to ${to}`, { id: current.id, from, to });
      if (from === "failed") return this.rescheduleFailed(current, nextFireAt, tx);
      const updated = await this.repo.update(current.id, { state: to, nextFireAt: this.nextFireFor(to, current, nextFireAt) }, tx);
      if (TERMINAL_STATES.includes(to)) await this.tasks.cancelForInstances([current.id], `instance ${to}`, tx);
      if (to === "cancelled") await cancelChildrenOfCancelled(tx, this.repo, [current.id]);
      return updated!;
    });
    if (to === "scheduled") this.events.instancesDue();
    return row;
  }

  private nextFireFor(to: InstanceState, current: InstanceRow, nextFireAt: Date | undefined): Date | null {
    if (to === "scheduled") return nextFireAt ?? new Date();
    if (to === "paused" || TERMINAL_STATES.includes(to)) return current.lockedBy ? current.nextFireAt : null;
    return current.nextFireAt;
  }

  /** failed → scheduled: failed steps start over; completed ones never run again. */
  private async rescheduleFailed(current: InstanceRow, nextFireAt: Date | undefined, tx: DatabaseExecutor): Promise<InstanceRow> {
    const [sequence] = await tx.select({ blocks: sequences.blocks }).from(sequences).where(eq(sequences.id, current.sequenceId));
    const execution = resetFailedNodes(current.execution, (sequence?.blocks ?? []) as Block[]);
    const runtime = { ...((current.context.runtime as Record<string, unknown> | undefined) ?? {}) };
    delete runtime.error;
    delete runtime.failed_block;
    const updated = await this.repo.update(
      current.id,
      { state: "scheduled", nextFireAt: nextFireAt ?? new Date(), execution, context: { ...current.context, runtime }, lockedBy: null, leaseExpiresAt: null },
      tx,
    );
    return updated!;
  }

  /** Each section present (data, config, …) replaces the instance's section; others are kept. */
  async updateContext(id: string, patch: unknown, scope?: OwnerScope): Promise<InstanceRow> {
    if (!isObject(patch)) throw invalidParameter("context must be an object", { parameter: "context" });
    const row = await this.db.transaction(async (tx) => {
      const current = await this.get(id, scope, tx, true);
      const context = normalizeContext({ ...current.context, ...patch }, "context");
      checkContextSize(context, this.settings.maxContextBytes);
      if (current.lockedBy) {
        // The engine holding the instance rewrites the context at its next checkpoint: hand it the patch
        // as an (internal) signal so it applies it in order instead of overwriting it.
        await enqueueSignal(tx, current.id, "context_patch", patch);
        await this.repo.markNeedsAttention(current.id, tx);
        return { ...current, context };
      }
      return (await this.repo.update(current.id, { context }, tx))!;
    });
    if (row.lockedBy) this.events.instanceSignalled(row.id);
    return row;
  }

  async sendSignal(id: string, signalType: unknown, payload: unknown, scope?: OwnerScope): Promise<{ signalId: string }> {
    const type = validateSignalType(signalType);
    if (type === "update_context" && !isObject(payload)) throw invalidParameter("the payload of update_context must be an object", { parameter: "payload" });
    const signalId = await this.db.transaction(async (tx) => {
      const current = await this.get(id, scope, tx, true);
      if (TERMINAL_STATES.includes(current.state as InstanceState)) {
        throw illegalStateChange(`instance is ${current.state}; it takes no signals`, { id: current.id, state: current.state });
      }
      const signal = await enqueueSignal(tx, current.id, type, payload ?? null);
      await this.repo.markNeedsAttention(current.id, tx);
      return signal;
    });
    this.events.instanceSignalled(id.toLowerCase());
    return { signalId };
  }

  async outputs(id: string, scope?: OwnerScope): Promise<BlockOutputRow[]> {
    const current = await this.get(id, scope);
    return this.repo.outputs(current.id);
  }

  /** Re-schedules a FAILED instance now. */
  async retry(id: string, scope?: OwnerScope): Promise<{ id: string; state: "scheduled" }> {
    await this.db.transaction(async (tx) => {
      const current = await this.get(id, scope, tx, true);
      if (current.state !== "failed") throw illegalStateChange(`instance is ${current.state}; only failed instances can be retried`, { id: current.id, state: current.state });
      await this.rescheduleFailed(current, undefined, tx);
    });
    this.events.instancesDue();
    return { id: id.toLowerCase(), state: "scheduled" };
  }

  /**
   * Moves every matching instance to `to`; those for which the table forbids the change are skipped
   * and not counted. Without states, all non-terminal instances match.
   */
  async bulkUpdateState(filter: InstanceFilter, to: InstanceState): Promise<{ count: number }> {
    requireText(filter.tenantId, "filter.tenant_id");
    if (filter.sequenceId !== undefined && !isUuid(filter.sequenceId)) throw invalidParameter("filter.sequence_id must be a UUID", { parameter: "filter.sequence_id" });
    const candidates = filter.states && filter.states.length > 0 ? filter.states : NON_TERMINAL_STATES;
    const from = statesLeadingTo(to).filter((s) => candidates.includes(s));
    if (from.length === 0) return { count: 0 };
    let count = 0;
    if (from.includes("failed")) {
      const failed = await this.db.select({ id: instances.id }).from(instances).where(filterCondition({ ...filter, states: ["failed"] }));
      for (const { id } of failed) {
        await this.db.transaction(async (tx) => {
          const current = await this.get(id, undefined, tx, true);
          if (current.state !== "failed") return;
          await this.rescheduleFailed(current, undefined, tx);
          count++;
        });
      }
    }
    const others = from.filter((s) => s !== "failed");
    if (others.length > 0) {
      const next =
        to === "scheduled"
          ? sql`now()`
          : to === "paused" || TERMINAL_STATES.includes(to)
            ? sql`case when ${instances.lockedBy} is null then null else ${instances.nextFireAt} end`
            : sql`${instances.nextFireAt}`;
      const ids = await this.db.transaction(async (tx) => {
        const updated = await tx
          .update(instances)
          .set({ state: to, nextFireAt: next as unknown as Date, updatedAt: sql`now()` as unknown as Date })
          .where(and(filterCondition({ ...filter, states: others })))
          .returning({ id: instances.id });
        const changed = updated.map((r) => r.id);
        if (TERMINAL_STATES.includes(to)) await this.tasks.cancelForInstances(changed, `instance ${to}`, tx);
        if (to === "cancelled") await cancelChildrenOfCancelled(tx, this.repo, changed);
        return changed;
      });
      count += ids.length;
    }
    if (to === "scheduled" && count > 0) this.events.instancesDue(count);
    return { count };
  }
}
