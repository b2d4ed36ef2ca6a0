import { and, eq, getTableColumns, lt, sql, type SQL } from "drizzle-orm";
import type { Database, DatabaseExecutor } from "@cloudforet/db";
import { queryRows } from "@cloudforet/db";
import { col, computed, defineQueryFields, listWith, scopeCondition, type QueryInput, type TenantScope } from "@cloudforet/query";
import { changeHistory, cloudServices, type ChangeHistoryRow } from "../db/schema";
import {
  authorPayload,
  changeCountOf,
  changeEntriesOf,
  changeIsNotEmpty,
  insertChangesFrom,
  snapshotOf,
  type ChangeAction,
  type ChangeAuthor,
} from "./history-sql";

/** What List and its query language can see of a change. */
export const changeHistoryFields = defineQueryFields(
  {
    change_id: col(changeHistory.changeId),
    cloud_service_id: col(changeHistory.cloudServiceId),
    action: col(changeHistory.action),
    // Batch writes store changes compact (migration 0004): these read every change as its keys.
    diff: computed(changeEntriesOf(changeHistory.diff), "json", { notNull: true }),
    diff_count: computed(changeCountOf(changeHistory.diff, changeHistory.diffCount), "number", { notNull: true }),
    updated_by: col(changeHistory.updatedBy),
    author_id: col(changeHistory.authorId),
    user_id: col(changeHistory.userId),
    collector_id: col(changeHistory.collectorId),
    job_id: col(changeHistory.jobId),
    job_task_id: col(changeHistory.jobTaskId),
    collector_rule_id: col(changeHistory.collectorRuleId),
    workspace_id: col(changeHistory.workspaceId),
    domain_id: col(changeHistory.domainId),
    created_at: col(changeHistory.createdAt, "datetime"),
  },
  { keywordFields: ["cloud_service_id", "author_id"], defaultSort: [{ key: "created_at", desc: true }, { key: "change_id", desc: true }] },
);

/** How many matching changes a List counts exactly; beyond, total_count says "at least" (total_count_exact). */
const HISTORY_COUNT_CAP = 1_000;

const inScope = (scope: TenantScope) => scopeCondition(scope, { domainId: changeHistory.domainId, workspaceId: changeHistory.workspaceId });

/** All SQL of the change history: single writes' records, List/Get, and pruning by age. */
export class ChangeHistoryRepository {
  constructor(private readonly db: Database) {}

  /** The tracked fields of a resource as they are now (the "before" of a single write), inside `tx`. */
  async snapshot(tx: DatabaseExecutor, cloudServiceId: string): Promise<unknown> {
    const [row] = await queryRows<{ snap: unknown }>(tx, sql`select ${snapshotOf("c")} as snap from ${cloudServices} c where c.cloud_service_id = ${cloudServiceId}`);
    return row?.snap ?? null;
  }

  /** Records what one write changed (`before` from snapshot(), null for a create), inside the write's transaction. */
  async record(tx: DatabaseExecutor, cloudServiceId: string, action: ChangeAction, before: unknown, author: ChangeAuthor): Promise<void> {
    const who = authorPayload(author);
    await queryRows(
      tx,
      sql`with src as (
            select c.cloud_service_id, c.domain_id, c.workspace_id, ${action}::text as action,
              ${before === null ? null : JSON.stringify(before)}::jsonb as old_snap, ${snapshotOf("c")} as new_snap, null::jsonb as given_diff,
              ${who.h_updated_by}::text as h_updated_by, ${who.h_author_id}::text as h_author_id, ${who.h_user_id}::text as h_user_id,
              ${who.h_collector_id}::text as h_collector_id, ${who.h_job_id}::text as h_job_id, ${who.h_job_task_id}::text as h_job_task_id,
              ${JSON.stringify(who.h_rule_changes)}::jsonb as h_rule_changes
            from ${cloudServices} c where c.cloud_service_id = ${cloudServiceId}
          )
          ${insertChangesFrom("src")}`,
    );
  }

  /**
   * A page of changes. Counted exactly up to HISTORY_COUNT_CAP: a compact change is turned into its
   * keys to be read (and left out when it has none), so a count walks no further than that.
   */
  list(scope: TenantScope, query: QueryInput, cloudServiceId?: string) {
    const where: SQL = and(inScope(scope), cloudServiceId ? eq(changeHistory.cloudServiceId, cloudServiceId) : undefined, changeIsNotEmpty(changeHistory.diff))!;
    return listWith(this.db, changeHistory, changeHistoryFields, query, where, { countCap: HISTORY_COUNT_CAP });
  }

  async get(scope: TenantScope, changeId: string): Promise<ChangeHistoryRow | undefined> {
    const [row] = await this.db
      .select({
        ...getTableColumns(changeHistory),
        diff: changeEntriesOf(changeHistory.diff).mapWith(changeHistory.diff),
        diffCount: changeCountOf(changeHistory.diff, changeHistory.diffCount).mapWith(Number),
      })
      .from(changeHistory)
      .where(and(eq(changeHistory.changeId, changeId), inScope(scope), changeIsNotEmpty(changeHistory.diff)));
    return row;
  }

  /**
   * Deletes changes older than `cutoff`, at most `batch` of them, under a transaction-level advisory
   * lock: with several replicas, one prunes and the others skip this round. Returns how many went,
   * or undefined when another replica holds the lock.
   */
  async pruneBefore(cutoff: Date, batch: number): Promise<number | undefined> {
    return this.db.transaction(async (tx) => {
      const [lock] = await queryRows<{ locked: boolean }>(tx, sql`select pg_try_advisory_xact_lock(hashtext('cloudforet:cloud-service:history-retention')) as locked`);
      if (!lock?.locked) return undefined;
      const rows = await queryRows<{ n: number }>(
        tx,
        sql`with gone as (
              delete from ${changeHistory} where change_id in (
                select change_id from ${changeHistory} where ${lt(changeHistory.createdAt, cutoff)} limit ${batch}
              ) returning 1
            ) select count(*)::int as n from gone`,
      );
      return rows[0]?.n ?? 0;
    });
  }
}
