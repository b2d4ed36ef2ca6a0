import { and, asc, eq, gt, gte, inArray, lte, sql } from "drizzle-orm";
import type { Database, DatabaseExecutor } from "@cloudforet/db";
import { isUniqueViolation } from "@cloudforet/db";
import { conflict, invalidParameter } from "@cloudforet/errors";
import { enqueueEvent, eventSubject } from "@cloudforet/events";
import { col, defineQueryFields, json, listWith, scopeCondition, type QueryInput, type TenantScope } from "@cloudforet/query";
import { collectorRules, outbox, type CollectorRuleRow } from "../db/schema";

export const collectorRuleFields = defineQueryFields(
  {
    collector_rule_id: col(collectorRules.collectorRuleId),
    name: col(collectorRules.name),
    collector_id: col(collectorRules.collectorId),
    order: col(collectorRules.ruleOrder, "number"),
    conditions_policy: col(collectorRules.conditionsPolicy),
    stop_processing: col(collectorRules.stopProcessing, "boolean"),
    conditions: json(collectorRules.conditions),
    actions: json(collectorRules.actions),
    tags: json(collectorRules.tags),
    workspace_id: col(collectorRules.workspaceId),
    domain_id: col(collectorRules.domainId),
    created_at: col(collectorRules.createdAt, "datetime"),
    updated_at: col(collectorRules.updatedAt, "datetime"),
  },
  { keywordFields: ["name", "collector_rule_id"], defaultSort: [{ key: "collector_id" }, { key: "order" }] },
);

export type NewCollectorRule = Omit<CollectorRuleRow, "ruleOrder" | "createdAt" | "updatedAt">;
export type CollectorRulePatch = Partial<Pick<CollectorRuleRow, "name" | "conditions" | "conditionsPolicy" | "actions" | "stopProcessing" | "tags">>;

const inScope = (scope: TenantScope) => scopeCondition(scope, { domainId: collectorRules.domainId, workspaceId: collectorRules.workspaceId });
/**
 * What a caller reads: its workspaces' rules and the domain's (they apply to every collection of the
 * domain, so a push collector's caller reads them too: cloud-service applies them as that caller).
 */
const readable = (scope: TenantScope) => scopeCondition(scope, { domainId: collectorRules.domainId, workspaceId: collectorRules.workspaceId }, { domainWideRows: true });
const ruleEvent = (event: string) => eventSubject("inventory", "collector_rule", event);
const sameOrdering = (row: { domainId: string; collectorId: string }) => and(eq(collectorRules.domainId, row.domainId), eq(collectorRules.collectorId, row.collectorId));

/**
 * Collector rules in SQL. Orders are 1..n per collector (or per domain), kept contiguous: every
 * change of an ordering holds a transaction-level advisory lock on it, so concurrent creates,
 * deletes and moves of one collector's rules queue instead of interleaving.
 */
export class CollectorRuleRepository {
  constructor(
    private readonly db: Database,
    private readonly onCommit: () => void,
  ) {}

  /** Appends the rule at the end of its ordering. */
  async create(input: NewCollectorRule): Promise<CollectorRuleRow> {
    try {
      const row = await this.db.transaction(async (tx) => {
        await lockOrdering(tx, input);
        const [{ last }] = await tx
          .select({ last: sql<number>`coalesce(max(${collectorRules.ruleOrder}), 0)::int` })
          .from(collectorRules)
          .where(sameOrdering(input));
        const [created] = await tx.insert(collectorRules).values({ ...input, ruleOrder: last + 1 }).returning();
        await this.event(tx, "created", created);
        return created;
      });
      this.onCommit();
      return row;
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict("Collector rule already exists", { collector_rule_id: input.collectorRuleId });
      throw err;
    }
  }

  async get(scope: TenantScope, id: string): Promise<CollectorRuleRow | undefined> {
    const [row] = await this.db.select().from(collectorRules).where(and(eq(collectorRules.collectorRuleId, id), readable(scope)));
    return row;
  }

  list(scope: TenantScope, query: QueryInput) {
    return listWith(this.db, collectorRules, collectorRuleFields, query, readable(scope));
  }

  /** Applies a patch built from the current row, under a row lock. */
  async update(scope: TenantScope, id: string, build: (current: CollectorRuleRow) => CollectorRulePatch): Promise<CollectorRuleRow | undefined> {
    const row = await this.db.transaction(async (tx) => {
      const [current] = await tx.select().from(collectorRules).where(and(eq(collectorRules.collectorRuleId, id), inScope(scope))).for("update");
      if (!current) return undefined;
      const [updated] = await tx
        .update(collectorRules)
        .set({ ...build(current), updatedAt: new Date() })
        .where(and(eq(collectorRules.domainId, current.domainId), eq(collectorRules.collectorRuleId, id)))
        .returning();
      await this.event(tx, "updated", updated);
      return updated;
    });
    if (row) this.onCommit();
    return row;
  }

  /** Deletes the rule; the ones after it move up. `check` may refuse (access) before anything changes. */
  async delete(scope: TenantScope, id: string, check: (current: CollectorRuleRow) => void): Promise<boolean> {
    const deleted = await this.db.transaction(async (tx) => {
      const current = await this.lockedRule(tx, scope, id);
      if (!current) return false;
      check(current);
      await tx.delete(collectorRules).where(and(eq(collectorRules.domainId, current.domainId), eq(collectorRules.collectorRuleId, id)));
      await tx
        .update(collectorRules)
        .set({ ruleOrder: sql`${collectorRules.ruleOrder} - 1` })
        .where(and(sameOrdering(current), gt(collectorRules.ruleOrder, current.ruleOrder)));
      await this.event(tx, "deleted", current);
      return true;
    });
    if (deleted) this.onCommit();
    return deleted;
  }

  /** Moves the rule to `order` (1..n of its ordering), shifting the rules between. */
  async changeOrder(scope: TenantScope, id: string, order: number, check: (current: CollectorRuleRow) => void): Promise<CollectorRuleRow | undefined> {
    const row = await this.db.transaction(async (tx) => {
      const current = await this.lockedRule(tx, scope, id);
      if (!current) return undefined;
      check(current);
      const [{ count }] = await tx.select({ count: sql<number>`count(*)::int` }).from(collectorRules).where(sameOrdering(current));
      if (order < 1 || order > count) throw invalidParameter(`order must be from 1 to ${count}`, { parameter: "order", value: String(order) });
      if (order === current.ruleOrder) return current;
      const moving = order < current.ruleOrder;
      await tx
        .update(collectorRules)
        .set({ ruleOrder: moving ? sql`${collectorRules.ruleOrder} + 1` : sql`${collectorRules.ruleOrder} - 1` })
        .where(
          and(
            sameOrdering(current),
            moving ? gte(collectorRules.ruleOrder, order) : gt(collectorRules.ruleOrder, current.ruleOrder),
            moving ? sql`${collectorRules.ruleOrder} < ${current.ruleOrder}` : lte(collectorRules.ruleOrder, order),
          ),
        );
      const [moved] = await tx
        .update(collectorRules)
        .set({ ruleOrder: order, updatedAt: new Date() })
        .where(and(eq(collectorRules.domainId, current.domainId), eq(collectorRules.collectorRuleId, id)))
        .returning();
      await this.event(tx, "updated", moved);
      return moved;
    });
    if (row) this.onCommit();
    return row;
  }

  /** The rules a collection of this collector applies: the collector's in order, then the domain's. */
  async rulesFor(domainId: string, collectorId: string): Promise<CollectorRuleRow[]> {
    return this.db
      .select()
      .from(collectorRules)
      .where(and(eq(collectorRules.domainId, domainId), inArray(collectorRules.collectorId, [collectorId, ""])))
      .orderBy(sql`${collectorRules.collectorId} = ''`, asc(collectorRules.ruleOrder));
  }

  /** The rule, its ordering locked (then the row), or undefined when not in scope. */
  private async lockedRule(tx: DatabaseExecutor, scope: TenantScope, id: string): Promise<CollectorRuleRow | undefined> {
    const [found] = await tx.select().from(collectorRules).where(and(eq(collectorRules.collectorRuleId, id), inScope(scope)));
    if (!found) return undefined;
    await lockOrdering(tx, found);
    const [current] = await tx.select().from(collectorRules).where(and(eq(collectorRules.domainId, found.domainId), eq(collectorRules.collectorRuleId, id))).for("update");
    return current;
  }

  private async event(tx: DatabaseExecutor, event: string, row: CollectorRuleRow): Promise<void> {
    await enqueueEvent(tx, outbox, {
      subject: ruleEvent(event),
      domainId: row.domainId,
      data: { collector_rule_id: row.collectorRuleId, collector_id: row.collectorId, workspace_id: row.workspaceId, order: row.ruleOrder },
    });
  }
}

async function lockOrdering(tx: DatabaseExecutor, row: { domainId: string; collectorId: string }): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`cloudforet:collector-rules:${row.domainId}:${row.collectorId}`}))`);
}
