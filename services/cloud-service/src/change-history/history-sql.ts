import { sql, type AnyColumn, type SQL } from "drizzle-orm";
import { changeHistory } from "../db/schema";

/**
 * The SQL that records change history inside the statements that write resources: a snapshot of a
 * row's tracked fields, and the INSERT … SELECT that diffs old and new snapshots (the migration's
 * `cloud_service.history_diff`) and writes one change per author. Set-based: a batch of a thousand
 * upserts records its history in the same statement, with no round trip per row.
 */

/** CREATE, UPDATE, DISCONNECT (missed by a finished collection) or DELETE. */
export type ChangeAction = "CREATE" | "UPDATE" | "DISCONNECT" | "DELETE";

/** USER (by hand), COLLECTOR (a collection), RULE (a collector rule) or SYSTEM (the sweep). */
export type UpdatedBy = "USER" | "COLLECTOR" | "RULE" | "SYSTEM";

/** Who writes: the caller, and the collection when a collection writes. */
export interface ChangeAuthor {
  userId: string;
  collectorId: string;
  jobId: string;
  jobTaskId: string;
  /** Keys collector rules set (`project_id`, `tags.env`), by rule id: their changes are the rule's. */
  ruleChanges: Record<string, string>;
}

/** The author's kind and id: a collection when it names a collector, job or task, else the user. */
export function authorOf(author: ChangeAuthor): { updatedBy: UpdatedBy; authorId: string } {
  const collection = author.jobId || author.jobTaskId || author.collectorId;
  return collection ? { updatedBy: "COLLECTOR", authorId: collection } : { updatedBy: "USER", authorId: author.userId };
}

/** The per-row author columns a history source carries, as a JSON payload's fields. */
export function authorPayload(author: ChangeAuthor) {
  const { updatedBy, authorId } = authorOf(author);
  return {
    h_updated_by: updatedBy,
    h_author_id: authorId,
    h_user_id: author.userId,
    h_collector_id: author.collectorId,
    h_job_id: author.jobId,
    h_job_task_id: author.jobTaskId,
    h_rule_changes: author.ruleChanges,
  };
}

/** The recordset column definitions matching authorPayload, for jsonb_to_recordset. */
export const authorColumns = sql.raw(
  "h_updated_by text, h_author_id text, h_user_id text, h_collector_id text, h_job_id text, h_job_task_id text, h_rule_changes jsonb",
);

/** The columns a snapshot holds (history_diff compares them; "" and null read as absent). */
const TRACKED_COLUMNS = [
  "name",
  "state",
  "account",
  "provider",
  "cloud_service_type",
  "cloud_service_group",
  "project_id",
  "workspace_id",
  "data",
  "tags",
  "reference",
] as const;
const MAP_COLUMNS = new Set(["data", "tags", "reference"]);

/** The tracked fields of a resource row (alias `alias`) as one jsonb; "" reads as absent. */
export function snapshotOf(alias: string): SQL {
  const pairs = TRACKED_COLUMNS.map((column) => {
    const value = sql`${sql.identifier(alias)}.${sql.identifier(column)}`;
    return sql`${sql.raw(`'${column}'`)}, ${MAP_COLUMNS.has(column) ? value : sql`nullif(${value}, '')`}`;
  });
  return sql`jsonb_build_object(${sql.join(pairs, sql`, `)})`;
}

/** `alias`'s tracked columns, each as `<prefix><column>` (for RETURNING and lateral reads). */
export function trackedColumns(alias: string, prefix: string): SQL {
  return sql.join(
    TRACKED_COLUMNS.map((column) => sql`${sql.identifier(alias)}.${sql.identifier(column)} as ${sql.identifier(prefix + column)}`),
    sql`, `,
  );
}

/** True when `alias`'s tracked columns differ from `before`'s `<prefix><column>` ones. */
export function trackedColumnsDiffer(alias: string, before: string, prefix: string): SQL {
  const of = (a: string, p: string) => sql.join(TRACKED_COLUMNS.map((column) => sql`${sql.identifier(a)}.${sql.identifier(p + column)}`), sql`, `);
  return sql`(${of(before, prefix)}) is distinct from (${of(alias, "")})`;
}

/**
 * An update's compact change: {"before": …, "after": …} holding only the tracked columns that
 * differ between `alias`'s columns and `before`'s `<prefix><column>` ones (the keys history_diff
 * reads; the unchanged ones would cancel out anyway). Half the bytes of two whole snapshots.
 */
export function compactUpdateOf(alias: string, before: string, prefix: string): SQL {
  const column = (a: string, name: string) => sql`${sql.identifier(a)}.${sql.identifier(name)}`;
  const side = (a: string, p: string) =>
    sql.join(
      TRACKED_COLUMNS.map(
        (name) =>
          sql`case when ${column(before, prefix + name)} is distinct from ${column(alias, name)} then jsonb_build_object(${sql.raw(`'${name}'`)}, ${column(a, p + name)}) else '{}'::jsonb end`,
      ),
      sql` || `,
    );
  return sql`jsonb_build_object('before', ${side(before, prefix)}, 'after', ${side(alias, "")})`;
}

/**
 * INSERT … SELECT of changes in the compact form (migration 0004) from a source relation with
 * the columns cloud_service_id, domain_id, workspace_id, compact ({"after": snapshot} for a create,
 * {"before", "after"} for an update) and the author columns of authorPayload. Writing the
 * snapshots costs a batch next to nothing; `change_entries` turns them into the changed keys when
 * the history is read. Rules' splits need the keys at write time: such rows go through
 * insertChangesFrom instead.
 */
export function insertCompactFrom(source: string, action: ChangeAction): SQL {
  return sql`insert into ${changeHistory} (domain_id, workspace_id, cloud_service_id, action, diff, diff_count, updated_by,
        author_id, user_id, collector_id, job_id, job_task_id)
      select s.domain_id, s.workspace_id, s.cloud_service_id, ${action}::text, s.compact, 0, s.h_updated_by,
        s.h_author_id, s.h_user_id, s.h_collector_id, s.h_job_id, s.h_job_task_id
      from ${sql.identifier(source)} s`;
}

/** A change's changed keys, whatever form it is stored in (see migration 0004). */
export const changeEntriesOf = (diff: SQL | AnyColumn): SQL => sql`cloud_service.change_entries(${diff})`;

/** A change's number of changed keys (stored for the array form, counted for the compact one). */
export const changeCountOf = (diff: SQL | AnyColumn, diffCount: SQL | AnyColumn): SQL =>
  sql`case when jsonb_typeof(${diff}) = 'object' then jsonb_array_length(${changeEntriesOf(diff)}) else ${diffCount} end`;

/** False only for a compact change whose snapshots differ in no key history counts ("" against a missing key). */
export const changeIsNotEmpty = (diff: SQL | AnyColumn): SQL =>
  sql`(jsonb_typeof(${diff}) <> 'object' or ${changeEntriesOf(diff)} <> '[]'::jsonb)`;

/**
 * INSERT … SELECT of the changes of a source relation (a CTE) with the columns: cloud_service_id,
 * domain_id, workspace_id, action, old_snap (null for a create), new_snap, given_diff (a diff
 * computed already, e.g. createdDiff, else null), and the author columns of authorPayload. Rows whose snapshots do not differ record nothing; keys a rule set are split into
 * the rule's own change.
 */
export function insertChangesFrom(source: string): SQL {
  return sql`insert into ${changeHistory} (domain_id, workspace_id, cloud_service_id, action, diff, diff_count, updated_by,
        author_id, user_id, collector_id, job_id, job_task_id, collector_rule_id)
      select s.domain_id, s.workspace_id, s.cloud_service_id, s.action, g.diff, jsonb_array_length(g.diff),
        case when g.rule_id <> '' then 'RULE' else s.h_updated_by end,
        case when g.rule_id <> '' then g.rule_id else s.h_author_id end,
        s.h_user_id, s.h_collector_id, s.h_job_id, s.h_job_task_id, g.rule_id
      from ${sql.identifier(source)} s
      cross join lateral (select coalesce(s.given_diff, cloud_service.history_diff(s.old_snap, s.new_snap)) as all_keys) d
      cross join lateral (
        -- Most writes involve no rule: their whole diff is one change, with no split.
        select '' as rule_id, d.all_keys as diff where s.h_rule_changes = '{}'::jsonb
        union all
        select coalesce(s.h_rule_changes ->> (ch ->> 'key'), ''), jsonb_agg(ch order by ch ->> 'key')
        from jsonb_array_elements(d.all_keys) ch
        where s.h_rule_changes <> '{}'::jsonb
        group by 1
      ) g
      where d.all_keys <> '[]'::jsonb`;
}
