import { and, asc, count, desc, eq, sql, type SQL } from "drizzle-orm";
import type { Database, DatabaseExecutor } from "@cloudforet/db";
import { isUniqueViolation, queryRows } from "@cloudforet/db";
import { conflict, invalidParameter, notFound } from "@cloudforet/errors";
import { ownerKey, ownerWhere, type Owner, type OwnerScope } from "../access/tenants";
import { sequences, triggerDedupe, triggers, type TriggerRow } from "../db/schema";
import type { EngineEvents } from "../engine/engine-events";
import { isUuid } from "../ids";
import type { Page } from "../instances/repository";
import type { Instances } from "../instances/instances";
import { requireText } from "../sequences/sequences";

const SLUG = /^[a-z0-9_-]{1,64}$/;

export interface NewTrigger extends Owner {
  slug: string;
  namespace: string;
  sequenceId?: string;
  sequenceName?: string;
  enabled?: boolean;
  triggerType?: "webhook" | "event";
}

export interface TriggerFilter extends OwnerScope {
  namespace?: string;
  sequenceId?: string;
  triggerType?: "webhook" | "event";
  enabled?: boolean;
}

/** Fields of an update; undefined keeps the stored value. */
export interface TriggerPatch {
  namespace?: string;
  sequenceId?: string;
  sequenceName?: string;
  enabled?: boolean;
  triggerType?: "webhook" | "event";
}

export interface FireRequest extends Owner {
  slug: string;
  data?: Record<string, unknown>;
  meta?: Record<string, unknown>;
  dedupeKey?: string;
  /** "parent" (default when there is a parent) or "tenant". */
  dedupeScope?: string;
  parentInstanceId?: string;
}

export interface FireResult {
  instanceId: string;
  sequenceName: string;
  deduped: boolean;
}

/**
 * Event triggers: a slug that spawns an instance of a sequence (emit_event, TriggerService.Fire).
 * CRUD (slug, sequence, enabled, type) and firing with dedupe.
 */
export class Triggers {
  constructor(
    private readonly db: Database,
    private readonly instances: Instances,
    /** Hears that a fire from outside created an instance (wakes the scheduler). */
    private readonly events?: Pick<EngineEvents, "instancesDue">,
  ) {}

  /** The sequence a trigger targets: pinned by id (in the tenant) or bound by name (in the namespace). */
  private async resolveSequence(owner: Owner, namespace: string, sequenceId: string | undefined, sequenceName: string | undefined): Promise<{ sequenceId: string | null; sequenceName: string }> {
    if (!!sequenceId === !!sequenceName) throw invalidParameter("give exactly one of sequence_id and sequence_name", { parameter: "sequence_id" });
    if (sequenceId) {
      if (!isUuid(sequenceId)) throw invalidParameter("sequence_id must be a UUID", { parameter: "sequence_id" });
      const [sequence] = await this.db.select().from(sequences).where(and(eq(sequences.id, sequenceId.toLowerCase()), ownerWhere(sequences, owner)));
      if (!sequence) throw notFound("sequence not found", { sequence_id: sequenceId });
      return { sequenceId: sequence.id, sequenceName: sequence.name };
    }
    const name = requireText(sequenceName, "sequence_name");
    const [sequence] = await this.db
      .select({ id: sequences.id })
      .from(sequences)
      .where(and(ownerWhere(sequences, owner), eq(sequences.namespace, namespace), eq(sequences.name, name)))
      .limit(1);
    if (!sequence) throw notFound("sequence not found", { sequence_name: name, namespace });
    return { sequenceId: null, sequenceName: name };
  }

  async create(input: NewTrigger): Promise<TriggerRow> {
    if (typeof input.slug !== "string" || !SLUG.test(input.slug)) throw invalidParameter("slug must be 1-64 of a-z 0-9 _ -", { parameter: "slug", value: String(input.slug) });
    const tenantId = requireText(input.tenantId, "tenant_id");
    const namespace = requireText(input.namespace, "namespace", 128);
    const target = await this.resolveSequence({ domainId: input.domainId, tenantId }, namespace, input.sequenceId, input.sequenceName);
    try {
      const [row] = await this.db
        .insert(triggers)
        .values({ slug: input.slug, domainId: input.domainId, tenantId, namespace, ...target, enabled: input.enabled ?? true, triggerType: input.triggerType ?? "event" })
        .returning();
      return row;
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict(`trigger ${input.slug} already exists`, { slug: input.slug });
      throw err;
    }
  }

  /** Triggers of a tenant, ordered by slug. */
  async list(filter: TriggerFilter, page: Page, withTotal = false): Promise<{ results: TriggerRow[]; totalCount: number }> {
    if (filter.sequenceId !== undefined && !isUuid(filter.sequenceId)) throw invalidParameter("sequence_id must be a UUID", { parameter: "sequence_id" });
    const conditions: SQL[] = [];
    const owner = ownerWhere(triggers, filter);
    if (owner) conditions.push(owner);
    if (filter.namespace !== undefined) conditions.push(eq(triggers.namespace, filter.namespace));
    if (filter.sequenceId !== undefined) conditions.push(eq(triggers.sequenceId, filter.sequenceId.toLowerCase()));
    if (filter.triggerType !== undefined) conditions.push(eq(triggers.triggerType, filter.triggerType));
    if (filter.enabled !== undefined) conditions.push(eq(triggers.enabled, filter.enabled));
    const where = and(...conditions);
    const results = await this.db.select().from(triggers).where(where).orderBy(asc(triggers.slug)).offset(page.offset).limit(page.limit);
    const totalCount = withTotal ? (await this.db.select({ n: count() }).from(triggers).where(where))[0].n : results.length;
    return { results, totalCount };
  }

  /** Changes the given fields (the slug cannot change); a new sequence_id or sequence_name replaces the other. */
  async update(owner: Owner, slug: string, patch: TriggerPatch): Promise<TriggerRow> {
    const current = await this.get(owner, slug);
    const namespace = patch.namespace === undefined ? current.namespace : requireText(patch.namespace, "namespace", 128);
    if (patch.sequenceId !== undefined && patch.sequenceName !== undefined) throw invalidParameter("give at most one of sequence_id and sequence_name", { parameter: "sequence_id" });
    const retarget = patch.sequenceId !== undefined || patch.sequenceName !== undefined || namespace !== current.namespace;
    const target = retarget
      ? await this.resolveSequence(
          owner,
          namespace,
          patch.sequenceId ?? (patch.sequenceName === undefined ? (current.sequenceId ?? undefined) : undefined),
          patch.sequenceName ?? (patch.sequenceId === undefined && !current.sequenceId ? current.sequenceName : undefined),
        )
      : { sequenceId: current.sequenceId, sequenceName: current.sequenceName };
    const [row] = await this.db
      .update(triggers)
      .set({ namespace, ...target, enabled: patch.enabled ?? current.enabled, triggerType: patch.triggerType ?? current.triggerType, updatedAt: new Date() })
      .where(and(ownerWhere(triggers, owner), eq(triggers.slug, slug)))
      .returning();
    if (!row) throw notFound("trigger not found", { slug });
    return row;
  }

  async delete(owner: Owner, slug: string): Promise<void> {
    const deleted = await this.db.delete(triggers).where(and(ownerWhere(triggers, owner), eq(triggers.slug, slug))).returning({ slug: triggers.slug });
    if (deleted.length === 0) throw notFound("trigger not found", { slug });
  }

  /** Fire from outside a workflow (TriggerService.Fire, REST): its own transaction, then a wake-up. */
  async fireNow(request: FireRequest): Promise<FireResult> {
    if (request.parentInstanceId !== undefined) {
      await this.instances.get(request.parentInstanceId, { domainId: request.domainId, tenantId: request.tenantId });
    }
    const result = await this.db.transaction((tx) => this.fire(request, tx));
    if (!result.deduped) this.events?.instancesDue();
    return result;
  }

  async get(owner: Owner, slug: string): Promise<TriggerRow> {
    const [row] = await this.db.select().from(triggers).where(and(ownerWhere(triggers, owner), eq(triggers.slug, slug)));
    if (!row) throw notFound("trigger not found", { slug });
    return row;
  }

  /**
   * Spawns an instance of the trigger's sequence with context.data = data, inside `exec` (emit_event
   * passes its checkpoint transaction, so the child exists exactly when the step is recorded done).
   * With a dedupe key the fire is recorded per (scope, key) and a repeat returns the first child.
   */
  async fire(request: FireRequest, exec: DatabaseExecutor): Promise<FireResult> {
    if (request.dedupeKey !== undefined && (typeof request.dedupeKey !== "string" || request.dedupeKey === "")) {
      throw invalidParameter("dedupe_key must be a non-empty string", { parameter: "dedupe_key" });
    }
    const scope = request.dedupeScope || (request.parentInstanceId ? "parent" : "tenant");
    if (scope !== "parent" && scope !== "tenant") throw invalidParameter('dedupe_scope must be "parent" or "tenant"', { parameter: "dedupe_scope", value: scope });
    if (scope === "parent" && request.dedupeKey !== undefined && !request.parentInstanceId) {
      throw invalidParameter('dedupe_scope "parent" needs a parent instance', { parameter: "dedupe_scope" });
    }
    const [trigger] = await exec.select().from(triggers).where(and(ownerWhere(triggers, { domainId: request.domainId, tenantId: request.tenantId }), eq(triggers.slug, request.slug)));
    if (!trigger) throw notFound(`trigger ${request.slug} not found`, { slug: request.slug });
    if (!trigger.enabled) throw conflict(`trigger ${request.slug} is disabled`, { slug: request.slug });
    const [sequence] = trigger.sequenceId
      ? await exec.select().from(sequences).where(eq(sequences.id, trigger.sequenceId))
      : await exec
          .select()
          .from(sequences)
          .where(and(ownerWhere(sequences, trigger), eq(sequences.namespace, trigger.namespace), eq(sequences.name, trigger.sequenceName)))
          .orderBy(desc(sequences.version))
          .limit(1);
    if (!sequence) throw notFound(`the sequence of trigger ${request.slug} no longer exists`, { slug: request.slug });
    const row = this.instances.prepare({
      sequenceId: sequence.id,
      domainId: trigger.domainId,
      tenantId: trigger.tenantId,
      namespace: trigger.namespace,
      context: { data: request.data ?? {} },
      metadata: { ...(request.meta ?? {}), source: `trigger:${trigger.slug}`, parent_instance_id: request.parentInstanceId ?? null },
    });
    if (request.dedupeKey !== undefined) {
      const scopeKey = scope === "parent" ? request.parentInstanceId! : ownerKey(trigger);
      const claimed = await exec
        .insert(triggerDedupe)
        .values({ scope, scopeKey, dedupeKey: request.dedupeKey, instanceId: row.id! })
        .onConflictDoNothing()
        .returning({ instanceId: triggerDedupe.instanceId });
      if (claimed.length === 0) {
        const [existing] = await exec
          .select({ instanceId: triggerDedupe.instanceId })
          .from(triggerDedupe)
          .where(and(eq(triggerDedupe.scope, scope), eq(triggerDedupe.scopeKey, scopeKey), eq(triggerDedupe.dedupeKey, request.dedupeKey)));
        return { instanceId: existing.instanceId, sequenceName: sequence.name, deduped: true };
      }
    }
    const created = await this.instances.insertOrFind(row, exec);
    return { instanceId: created.id, sequenceName: sequence.name, deduped: false };
  }

  /**
   * Deletes dedupe records older than `maxAgeMs` (default 30 days), in batches of `batch` rows so a
   * large backlog never holds one long transaction. Rows another replica is deleting are skipped
   * (SKIP LOCKED), so replicas sweeping at once share the work instead of waiting on each other.
   */
  async sweepDedupe(maxAgeMs = 30 * 86_400_000, batch = 5_000): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = await queryRows(
        this.db,
        sql`delete from ${triggerDedupe} where ctid in (
              select ctid from ${triggerDedupe}
              where created_at < now() - ${maxAgeMs} * interval '1 millisecond'
              limit ${batch} for update skip locked)
            returning 1`,
      );
      total += deleted.length;
      if (deleted.length < batch) return total;
    }
  }
}
