import { randomUUID } from "node:crypto";
import { and, asc, count, eq, getTableColumns, isNotNull, lte, sql, type SQL } from "drizzle-orm";
import { queryRows, type Database } from "@cloudforet/db";
import { invalidParameter, missingParameter, notFound } from "@cloudforet/errors";
import type { Logger } from "pino";
import { cronSchedules, sequences, type CronScheduleRow } from "../db/schema";
import type { EngineEvents } from "../engine/engine-events";
import { isUuid } from "../ids";
import type { Page } from "../instances/repository";
import { inScope, ownerWhere, requireInScope, type OwnerScope } from "../access/tenants";
import type { Instances } from "../instances/instances";
import { checkContextSize, validateTimezone } from "../instances/rules";
import { requireText } from "../sequences/sequences";
import { CronSyntaxError, nextFireAfter, parseCron } from "@cloudforet/cron";

export interface NewCronSchedule {
  domainId: string;
  tenantId: string;
  namespace: unknown;
  sequenceId: unknown;
  cronExpr: unknown;
  timezone?: unknown;
  metadata?: unknown;
  enabled?: unknown;
}

/** Fields of an update; undefined keeps the stored value. */
export interface CronSchedulePatch {
  cronExpr?: unknown;
  timezone?: unknown;
  metadata?: unknown;
  enabled?: unknown;
}

export interface CronFilter extends OwnerScope {
  namespace?: string;
  sequenceId?: string;
  enabled?: boolean;
}

export interface CronSettings {
  /**
   * A clock that replaces the database's (tests inject one). Without it every decision uses the
   * database's `now()`, so replicas whose own clocks drift still agree on what is due.
   */
  clock?: () => Date;
  /** Largest metadata (the instance context limit). */
  maxMetadataBytes: number;
  /** Hears that instances were created (wakes the scheduler). */
  events: Pick<EngineEvents, "instancesDue">;
  /** Hears that a schedule was created or changed (the ticker looks at the fire times again). */
  changed?: () => void;
  /** Counts created instances (orch8_cron_triggered_total). */
  triggered(count: number): void;
  logger: Logger;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** The idempotency key of the instance of one fire: two replicas firing it create one instance. */
export const cronIdempotencyKey = (scheduleId: string, fireAt: Date) => `cron:${scheduleId}:${fireAt.toISOString()}`;

function cronExprOf(value: unknown): string {
  const text = requireText(value, "cron_expr");
  try {
    return parseCron(text).source;
  } catch (err) {
    if (err instanceof CronSyntaxError) throw invalidParameter(`cron_expr is invalid: ${err.message}`, { parameter: "cron_expr", value: text });
    throw err;
  }
}

function nextFireOrReject(expr: string, timezone: string, after: Date): Date {
  const next = nextFireAfter(parseCron(expr), timezone, after);
  if (!next) throw invalidParameter("cron_expr never fires again", { parameter: "cron_expr", value: expr });
  return next;
}

function enabledOf(value: unknown): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "boolean") throw invalidParameter("enabled must be a boolean", { parameter: "enabled", value: String(value) });
  return value;
}

/**
 * Cron schedules: CRUD, and `fireDue`, the unit of work of the cron ticker.
 *
 * Missed fires: a schedule whose fire time passed while no engine ran fires once when an engine
 * comes back, then resumes at the first fire time after now (missed fires are not replayed).
 */
export class CronSchedules {
  constructor(
    private readonly db: Database,
    private readonly instances: Instances,
    private readonly settings: CronSettings,
  ) {}

  private metadataOf(value: unknown): Record<string, unknown> | undefined {
    if (value === undefined || value === null) return undefined;
    if (!isObject(value)) throw invalidParameter("metadata must be an object", { parameter: "metadata" });
    checkContextSize(value, this.settings.maxMetadataBytes, "metadata");
    return value;
  }

  async create(input: NewCronSchedule): Promise<CronScheduleRow> {
    const namespace = requireText(input.namespace, "namespace", 128);
    if (input.sequenceId === undefined || input.sequenceId === null || input.sequenceId === "") throw missingParameter("sequence_id");
    if (!isUuid(input.sequenceId)) throw invalidParameter("sequence_id must be a UUID", { parameter: "sequence_id", value: String(input.sequenceId) });
    const sequenceId = input.sequenceId.toLowerCase();
    const cronExpr = cronExprOf(input.cronExpr);
    const timezone = validateTimezone(input.timezone, "timezone");
    const metadata = this.metadataOf(input.metadata) ?? {};
    const enabled = enabledOf(input.enabled) ?? true;
    const nextFireAt = nextFireOrReject(cronExpr, timezone, await this.now(this.db));
    const [sequence] = await this.db
      .select({ id: sequences.id })
      .from(sequences)
      .where(and(eq(sequences.id, sequenceId), ownerWhere(sequences, input)));
    if (!sequence) throw notFound(`sequence ${sequenceId} not found`, { parameter: "sequence_id", sequence_id: sequenceId });
    const [row] = await this.db
      .insert(cronSchedules)
      .values({ id: randomUUID(), domainId: input.domainId, tenantId: input.tenantId, namespace, sequenceId, cronExpr, timezone, metadata, enabled, nextFireAt })
      .returning();
    this.settings.changed?.();
    return row;
  }

  async get(id: string, scope?: OwnerScope): Promise<CronScheduleRow> {
    const row = isUuid(id) ? (await this.db.select().from(cronSchedules).where(eq(cronSchedules.id, id.toLowerCase())))[0] : undefined;
    return requireInScope(row, scope, "cron schedule", id);
  }

  async list(filter: CronFilter, page: Page, withTotal = false): Promise<{ results: CronScheduleRow[]; totalCount: number }> {
    if (filter.sequenceId !== undefined && !isUuid(filter.sequenceId)) throw invalidParameter("sequence_id must be a UUID", { parameter: "sequence_id" });
    const conditions: SQL[] = [];
    const owner = ownerWhere(cronSchedules, filter);
    if (owner) conditions.push(owner);
    if (filter.namespace !== undefined) conditions.push(eq(cronSchedules.namespace, filter.namespace));
    if (filter.sequenceId !== undefined) conditions.push(eq(cronSchedules.sequenceId, filter.sequenceId.toLowerCase()));
    if (filter.enabled !== undefined) conditions.push(eq(cronSchedules.enabled, filter.enabled));
    const where = conditions.length > 0 ? and(...conditions) : undefined;
    const results = await this.db
      .select()
      .from(cronSchedules)
      .where(where)
      .orderBy(asc(cronSchedules.createdAt), asc(cronSchedules.id))
      .offset(page.offset)
      .limit(page.limit);
    const totalCount = withTotal ? (await this.db.select({ n: count() }).from(cronSchedules).where(where))[0].n : results.length;
    return { results, totalCount };
  }

  /** Changes the given fields and recomputes next_fire_at from now. */
  async update(id: string, patch: CronSchedulePatch, scope?: OwnerScope): Promise<CronScheduleRow> {
    const row = await this.updateRow(id, patch, scope);
    this.settings.changed?.();
    return row;
  }

  private async updateRow(id: string, patch: CronSchedulePatch, scope?: OwnerScope): Promise<CronScheduleRow> {
    const cronExpr = patch.cronExpr === undefined || patch.cronExpr === null ? undefined : cronExprOf(patch.cronExpr);
    const timezone = patch.timezone === undefined || patch.timezone === null ? undefined : validateTimezone(patch.timezone, "timezone");
    const metadata = this.metadataOf(patch.metadata);
    const enabled = enabledOf(patch.enabled);
    return this.db.transaction(async (tx) => {
      const current = isUuid(id) ? (await tx.select().from(cronSchedules).where(eq(cronSchedules.id, id.toLowerCase())).for("update"))[0] : undefined;
      if (!current || !inScope(current, scope)) throw notFound("cron schedule not found", { id });
      const expr = cronExpr ?? current.cronExpr;
      const zone = timezone ?? current.timezone;
      const nextFireAt = nextFireOrReject(expr, zone, await this.now(tx));
      const [row] = await tx
        .update(cronSchedules)
        .set({ cronExpr: expr, timezone: zone, metadata: metadata ?? current.metadata, enabled: enabled ?? current.enabled, nextFireAt, updatedAt: new Date() })
        .where(eq(cronSchedules.id, current.id))
        .returning();
      return row;
    });
  }

  async delete(id: string, scope?: OwnerScope): Promise<void> {
    const conditions = [eq(cronSchedules.id, isUuid(id) ? id.toLowerCase() : "00000000-0000-0000-0000-000000000000")];
    const owner = ownerWhere(cronSchedules, scope);
    if (owner) conditions.push(owner);
    const deleted = await this.db.delete(cronSchedules).where(and(...conditions)).returning({ id: cronSchedules.id });
    if (deleted.length === 0) throw notFound("cron schedule not found", { id });
  }

  /**
   * Fires the due schedules (up to `batch`): claims them with FOR UPDATE SKIP LOCKED and, in one
   * transaction, creates one instance per fire (idempotency key `cron:<id>:<fire time>`) and
   * advances next_fire_at to the first fire time after now. Returns how many instances it created.
   */
  async fireDue(batch = 32): Promise<{ claimed: number; created: number }> {
    const { claimed, created } = await this.db.transaction(async (tx) => {
      // Due by the database's clock (the transaction's now(), read in the claim itself), and the next
      // fire times computed from that same instant: a replica's drifting clock decides nothing.
      const claimedRows = await tx
        .select({ ...getTableColumns(cronSchedules), claimedAt: sql<number>`(extract(epoch from ${this.nowSql()}) * 1000)::float8` })
        .from(cronSchedules)
        .where(and(eq(cronSchedules.enabled, true), isNotNull(cronSchedules.nextFireAt), lte(cronSchedules.nextFireAt, this.nowSql())))
        .orderBy(asc(cronSchedules.nextFireAt))
        .limit(batch)
        .for("update", { skipLocked: true });
      if (claimedRows.length === 0) return { claimed: 0, created: 0 };
      const now = new Date(Math.floor(Number(claimedRows[0].claimedAt)));
      const due = claimedRows.map(({ claimedAt: _, ...schedule }) => schedule);
      let made = 0;
      for (const schedule of due) {
        const fireAt = schedule.nextFireAt!;
        const row = this.instances.prepare({
          sequenceId: schedule.sequenceId,
          domainId: schedule.domainId,
          tenantId: schedule.tenantId,
          namespace: schedule.namespace,
          metadata: schedule.metadata,
          idempotencyKey: cronIdempotencyKey(schedule.id, fireAt),
          nextFireAt: now,
        });
        const result = await this.instances.insertOrFind(row, tx);
        if (!result.deduplicated) made += 1;
        let next: Date | undefined;
        try {
          next = nextFireAfter(parseCron(schedule.cronExpr), schedule.timezone, now > fireAt ? now : fireAt);
        } catch (err) {
          this.settings.logger.error({ err, schedule_id: schedule.id }, "cron schedule cannot be evaluated; it stops firing");
        }
        await tx.update(cronSchedules).set({ nextFireAt: next ?? null, lastTriggeredAt: now, updatedAt: now }).where(eq(cronSchedules.id, schedule.id));
      }
      return { claimed: due.length, created: made };
    });
    if (created > 0) {
      this.settings.triggered(created);
      this.settings.events.instancesDue(created);
    }
    return { claimed, created };
  }

  /**
   * Milliseconds until the earliest enabled schedule is due by the database's clock (negative when
   * one is overdue); undefined when none will fire. The ticker sleeps until then when that is sooner than its tick.
   */
  async msUntilNextDue(): Promise<number | undefined> {
    const [row] = await this.db
      .select({ ms: sql<number | string | null>`(extract(epoch from (min(${cronSchedules.nextFireAt}) - ${this.nowSql()})) * 1000)::float8` })
      .from(cronSchedules)
      .where(and(eq(cronSchedules.enabled, true), isNotNull(cronSchedules.nextFireAt)));
    if (row?.ms === null || row?.ms === undefined) return undefined;
    return Number(row.ms);
  }

  /** The current instant in SQL: the injected clock's, else the database's (the transaction's start). */
  private nowSql(): SQL {
    const injected = this.settings.clock?.();
    return injected ? sql`${injected.toISOString()}::timestamptz` : sql`now()`;
  }

  /** The current instant read from the database (or the injected clock), for next fire times computed outside a claim. */
  private async now(db: Parameters<typeof queryRows>[0]): Promise<Date> {
    const injected = this.settings.clock?.();
    if (injected) return injected;
    const [row] = await queryRows<{ ms: number | string }>(db, sql`select (extract(epoch from now()) * 1000)::float8 as ms`);
    return new Date(Math.floor(Number(row.ms)));
  }
}
