import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { and, eq, inArray, sql, type SQL } from "drizzle-orm";
import type { Database, DatabaseExecutor } from "@cloudforet/db";
import { queryRows, statementTemplate, type StatementTemplate } from "@cloudforet/db";
import { cloudServices, type CloudServiceRow, type NewCloudServiceRow, type ResourceReference } from "../db/schema";
import { DELETED, DISCONNECTED, MISSES_BEFORE_DELETE, type MatchColumn, type MatchKey } from "./cloud-services";
import {
  authorColumns,
  authorPayload,
  insertChangesFrom,
  compactUpdateOf,
  insertCompactFrom,
  snapshotOf,
  trackedColumns,
  trackedColumnsDiffer,
  type ChangeAuthor,
} from "../change-history/history-sql";
import { createdDiff } from "../change-history/change-diff";

/** How an existing resource takes a collected (upserted) item's values. */
export interface UpsertValues {
  cloudServiceId: string;
  name: string;
  cloudServiceType: string;
  cloudServiceGroup: string;
  provider: string;
  account: string;
  state: string;
  data: JsonObject;
  tags: Record<string, string>;
  /** Replaces the stored reference when set. */
  reference?: ResourceReference;
  /** Each of these replaces the stored value when non-empty. */
  projectId: string;
  workspaceId: string;
  collectorId: string;
  jobTaskId: string;
  /** Who writes, for the change history. */
  author?: ChangeAuthor;
}

/** A resource already stored under a match key (the batch path's lookup). */
export interface MatchedResource {
  cloudServiceId: string;
  provider: string;
  cloudServiceType: string;
  resourceId: string;
  workspaceId: string;
  collectorId: string;
  state: string;
}

/** A resource a match rule found (the batched rule path's lookup). */
export interface RuleMatch {
  cloudServiceId: string;
  workspaceId: string;
}

/** Where a collection may match: the workspace it writes to (see collectionScope in resource-writer.ts). */
export interface CollectionScope {
  workspaceId: string;
}

/**
 * A resource written by Upsert. `collected` says a collection wrote it; its last_collected_at is
 * then the database's clock, like every other collection time the sweep compares (SPEC §6).
 */
export type NewCollectedRow = Omit<NewCloudServiceRow, "lastCollectedAt"> & { collected: boolean; author?: ChangeAuthor };

/** Internal options (benchmarks measure the cost of the history against a run without it). */
export interface CollectionOptions {
  /** Record change history in the write statements (default true). */
  history: boolean;
}

const hasRuleChanges = (author: ChangeAuthor | undefined) => author !== undefined && Object.keys(author.ruleChanges).length > 0;

const noAuthor: ChangeAuthor = { userId: "", collectorId: "", jobId: "", jobTaskId: "", ruleChanges: {} };

export interface SweepResult {
  disconnectedCount: number;
  deletedCount: number;
}

/**
 * The SQL of collection: writing upserted items in bulk (one statement per round, rows as one JSON
 * parameter), finding what they match, and the end-of-collection sweep. Inside one domain, given
 * by the caller (the upsert path checks write access before it gets here).
 */
export class CollectionRepository {
  /** The two bulk writes, rendered once (see statementTemplate). */
  private readonly insertStatement: StatementTemplate<"payload">;
  private readonly updateStatement: StatementTemplate<"payload" | "domainId">;

  constructor(
    private readonly db: Database,
    private readonly options: CollectionOptions = { history: true },
  ) {
    this.insertStatement = insertStatementOf(options.history);
    this.updateStatement = updateStatementOf(options.history);
  }

  /**
   * Inserts many resources in one statement (the rows travel as one JSON parameter, which is much
   * cheaper than thousands of bound values). Rows whose live key was taken meanwhile are skipped,
   * so the caller can retry them as updates. Returns the ids inserted.
   */
  async insertMany(rows: NewCollectedRow[], db: DatabaseExecutor = this.db): Promise<string[]> {
    if (rows.length === 0) return [];
    const payload = rows.map((row) => ({
      cloud_service_id: row.cloudServiceId,
      domain_id: row.domainId,
      workspace_id: row.workspaceId ?? "",
      project_id: row.projectId ?? "",
      name: row.name,
      cloud_service_type: row.cloudServiceType,
      cloud_service_group: row.cloudServiceGroup ?? "",
      provider: row.provider,
      account: row.account ?? "",
      state: row.state,
      data: row.data ?? {},
      tags: row.tags ?? {},
      reference: row.reference ?? { resource_id: "", external_link: "" },
      resource_id: row.resourceId ?? "",
      collector_id: row.collectorId ?? "",
      job_task_id: row.jobTaskId ?? "",
      collected: row.collected,
      ...authorPayload(row.author ?? noAuthor),
      // A create that collector rules shaped is split into the rules' changes at write time; any
      // other is recorded compact (the inserted row's snapshot) and read as its keys later.
      h_diff: this.options.history && hasRuleChanges(row.author) ? createdDiff(row) : null,
    }));
    const inserted = await queryRows<{ cloud_service_id: string }>(db, this.insertStatement({ payload: JSON.stringify(payload) }));
    return inserted.map((row) => row.cloud_service_id);
  }

  /**
   * Every resource of the domain (DELETED ones too) stored under one of the default-rule keys
   * (provider, cloud_service_type, reference.resource_id), in one query.
   */
  async findByDefaultKeys(domainId: string, keys: { provider: string; type: string; resourceId: string }[]): Promise<MatchedResource[]> {
    if (keys.length === 0) return [];
    const rows = await queryRows<{
      cloud_service_id: string;
      provider: string;
      cloud_service_type: string;
      resource_id: string;
      workspace_id: string;
      collector_id: string;
      state: string;
    }>(
      this.db,
      // One index probe per key, whatever the statistics say: as a plain join, a domain that grew
      // since its last ANALYZE (a first collection of 100,000 resources) is planned as a hash join
      // over every resource of the domain, once per round — quadratic ingest. `offset 0` keeps the
      // lateral subquery from being flattened back into that join.
      sql`select c.cloud_service_id, c.provider, c.cloud_service_type, c.resource_id, c.workspace_id, c.collector_id, c.state
          from jsonb_to_recordset(${JSON.stringify(keys.map((k) => ({ provider: k.provider, cloud_service_type: k.type, resource_id: k.resourceId })))}::jsonb)
            as k(provider text, cloud_service_type text, resource_id text)
          cross join lateral (
            select c.cloud_service_id, c.provider, c.cloud_service_type, c.resource_id, c.workspace_id, c.collector_id, c.state
            from ${cloudServices} c
            where c.domain_id = ${domainId} and c.resource_id = k.resource_id
              and c.provider = k.provider and c.cloud_service_type = k.cloud_service_type
            offset 0
          ) c`,
    );
    return rows.map((r) => ({
      cloudServiceId: r.cloud_service_id,
      provider: r.provider,
      cloudServiceType: r.cloud_service_type,
      resourceId: r.resource_id,
      workspaceId: r.workspace_id,
      collectorId: r.collector_id,
      state: r.state,
    }));
  }

  /**
   * Up to two resources of the domain whose values at the keys equal the given ones (any state);
   * for a collection, only those inside its scope (see CollectionScope).
   */
  async findByRule(domainId: string, conditions: { key: MatchKey; value: JsonValue }[], within?: CollectionScope): Promise<CloudServiceRow[]> {
    const scoped = within ? [inArray(cloudServices.workspaceId, [within.workspaceId, ""])] : [];
    return this.db
      .select()
      .from(cloudServices)
      .where(and(eq(cloudServices.domainId, domainId), ...scoped, ...conditions.map(matchCondition)))
      .limit(2);
  }

  /**
   * For each probe, up to two resources of the domain whose values at `keys` equal the probe's
   * (any state; for a collection, only inside its scope): findByRule for many items of one rule
   * shape in one statement. Returns, per probe index, what it found.
   */
  async findByRules(domainId: string, keys: MatchKey[], probes: { values: JsonValue[]; within?: CollectionScope }[]): Promise<Map<number, RuleMatch[]>> {
    const found = new Map<number, RuleMatch[]>();
    if (probes.length === 0) return found;
    const payload = probes.map((probe, i) => ({
      i,
      ws: probe.within?.workspaceId ?? null,
      // Columns compare as text (String(value), as findByRule does), JSON keys as jsonb.
      v: probe.values.map((value, j) => (keys[j].kind === "column" || isResourceIdKey(keys[j]) ? String(value) : value)),
      c: probe.values.map((value, j) => containment(keys[j], value)),
    }));
    const conditions = keys.map((key, j) => probeCondition(key, j));
    // Lateral with `limit 2`: one bounded probe per item, never a join over the whole domain.
    const rows = await queryRows<{ i: number; cloud_service_id: string; workspace_id: string }>(
      this.db,
      sql`select k.i, c.cloud_service_id, c.workspace_id
          from jsonb_to_recordset(${JSON.stringify(payload)}::jsonb) as k(i int, ws text, v jsonb, c jsonb)
          cross join lateral (
            select c.cloud_service_id, c.workspace_id from ${cloudServices} c
            where c.domain_id = ${domainId} and (k.ws is null or c.workspace_id in (k.ws, ''))
              and ${sql.join(conditions, sql` and `)}
            limit 2
          ) c`,
    );
    for (const row of rows) found.set(row.i, [...(found.get(row.i) ?? []), { cloudServiceId: row.cloud_service_id, workspaceId: row.workspace_id }]);
    return found;
  }

  /**
   * Gives matched resources their collected values in one statement: data replaced, tags merged,
   * state recomputed (a DISCONNECTED or DELETED resource comes back), seen now. Returns the ids updated.
   *
   * Each row is found by one primary-key probe (a lateral subquery, kept apart by `offset 0`) and
   * updated by its ctid: joined plainly, a domain that grew since its last ANALYZE is planned as a
   * hash join over all of its resources, every round. A row a concurrent writer changed meanwhile
   * has a new ctid, is left out and so retried one by one by the caller, as any row not updated.
   */
  async updateCollected(domainId: string, items: UpsertValues[], db: DatabaseExecutor = this.db): Promise<string[]> {
    if (items.length === 0) return [];
    const payload = items.map((item) => ({
      cloud_service_id: item.cloudServiceId,
      name: item.name,
      cloud_service_type: item.cloudServiceType,
      cloud_service_group: item.cloudServiceGroup,
      provider: item.provider,
      account: item.account,
      state: item.state,
      data: item.data,
      tags: item.tags,
      has_reference: item.reference !== undefined,
      reference: item.reference ?? null,
      resource_id: item.reference?.resource_id ?? "",
      project_id: item.projectId,
      workspace_id: item.workspaceId,
      collector_id: item.collectorId,
      job_task_id: item.jobTaskId,
      ...authorPayload(item.author ?? noAuthor),
    }));
    // With history on, each row's tracked columns are read as they were (o_*) beside the update, and
    // only a row whose columns changed builds its snapshots; its change goes in within the same
    // statement: compact (both snapshots, turned into keys when read), or split into the rules'
    // changes when rules wrote.
    const rows = await queryRows<{ cloud_service_id: string }>(db, this.updateStatement({ payload: JSON.stringify(payload), domainId }));
    return rows.map((r) => r.cloud_service_id);
  }

  /**
   * The end of a finished collection: resources of the collector and account that the task did
   * not write, and that were last collected before the task started, miss once more; they turn
   * DISCONNECTED, and DELETED at the third miss in a row.
   *
   * Keyed on time, not on which task wrote last: completions can be processed in any order (two
   * replicas on one durable, two relays, a backlog after an outage), and a resource written after
   * this task started was seen by a newer collection, so this task's completion says nothing about
   * it. Rows are locked in id order first, so two sweeps of one collector never deadlock.
   */
  async sweepMissed(
    db: DatabaseExecutor,
    input: { domainId: string; collectorId: string; account: string; jobTaskId: string; startedAt: Date },
  ): Promise<SweepResult> {
    const rows = await queryRows<{ state: string }>(
      db,
      sql`with missed as (
            select m.cloud_service_id, ${this.options.history ? snapshotOf("m") : sql`null::jsonb`} as old_snap from ${cloudServices} m
            where domain_id = ${input.domainId} and collector_id = ${input.collectorId} and account = ${input.account}
              and job_task_id <> ${input.jobTaskId} and state <> ${DELETED}
              and coalesce(last_collected_at, created_at) < ${input.startedAt.toISOString()}::timestamptz
            order by cloud_service_id
            for update
          ), upd as (
          update ${cloudServices} as c set
            miss_count = c.miss_count + 1,
            state = case when c.miss_count + 1 >= ${MISSES_BEFORE_DELETE} then ${DELETED} else ${DISCONNECTED} end,
            deleted_at = case when c.miss_count + 1 >= ${MISSES_BEFORE_DELETE} then now() else c.deleted_at end,
            updated_at = now()
          from missed where c.cloud_service_id = missed.cloud_service_id
          returning c.cloud_service_id, c.domain_id, c.workspace_id, c.state, missed.old_snap${this.options.history ? sql`, ${snapshotOf("c")} as new_snap` : sql``})
          ${
            this.options.history
              ? sql`, src as (
                  select upd.*, case when upd.state = ${DELETED} then 'DELETE' else 'DISCONNECT' end as action, null::jsonb as given_diff,
                    'SYSTEM'::text as h_updated_by, ${input.jobTaskId}::text as h_author_id, ''::text as h_user_id,
                    ${input.collectorId}::text as h_collector_id, ''::text as h_job_id, ${input.jobTaskId}::text as h_job_task_id,
                    '{}'::jsonb as h_rule_changes
                  from upd
                ), hist as (${insertChangesFrom("src")})`
              : sql``
          }
          select state from upd`,
    );
    const deletedCount = rows.filter((r) => r.state === DELETED).length;
    return { disconnectedCount: rows.length - deletedCount, deletedCount };
  }
}

/** One key of a match rule as SQL: a column, or JSON equality at a path into data/tags/reference. */
function matchCondition({ key, value }: { key: MatchKey; value: JsonValue }): SQL {
  if (key.kind === "column") return eq(matchColumn(key.column), String(value));
  if (key.field === "reference" && key.path.length === 1 && key.path[0] === "resource_id") {
    return eq(cloudServices.resourceId, String(value));
  }
  const column = key.field === "data" ? cloudServices.data : key.field === "tags" ? cloudServices.tags : cloudServices.reference;
  return sql`${column} #> ${`{${key.path.join(",")}}`}::text[] = ${JSON.stringify(value)}::jsonb`;
}

const isResourceIdKey = (key: MatchKey) => key.kind === "json" && key.field === "reference" && key.path.length === 1 && key.path[0] === "resource_id";

/** matchCondition for the j-th value of a findByRules probe `k`. */
function probeCondition(key: MatchKey, j: number): SQL {
  if (key.kind === "column" || isResourceIdKey(key)) {
    const column = key.kind === "column" ? matchColumn(key.column) : cloudServices.resourceId;
    return sql`c.${sql.identifier(column.name)} = (k.v ->> ${j}::int)`;
  }
  // Qualified by the alias: drizzle would name the table, which the lateral subquery calls c.
  const column = sql`c.${sql.identifier(key.field)}`;
  // The containment document (when there is one) only lets the GIN index narrow the probe; the
  // equality at the path is what decides, exactly as findByRule's.
  return sql`(k.c -> ${j}::int = 'null'::jsonb or ${column} @> (k.c -> ${j}::int)) and ${column} #> ${`{${key.path.join(",")}}`}::text[] = (k.v -> ${j}::int)`;
}

/**
 * {"a":{"b":value}} for a scalar value at data.a.b: whenever the value at the path equals it, the
 * column contains this (the path runs through objects only, so no array index can be meant).
 * null when that does not hold (object or array values, numeric segments): the probe then relies
 * on the equality alone.
 */
function containment(key: MatchKey, value: JsonValue): JsonValue {
  if (key.kind === "column" || isResourceIdKey(key)) return null;
  if (value === null || typeof value === "object" || key.path.some((segment) => /^\d+$/.test(segment))) return null;
  return key.path.reduceRight<JsonValue>((inner, segment) => ({ [segment]: inner }), value);
}

function matchColumn(column: MatchColumn) {
  return {
    cloud_service_id: cloudServices.cloudServiceId,
    name: cloudServices.name,
    cloud_service_name: cloudServices.name,
    cloud_service_type: cloudServices.cloudServiceType,
    cloud_service_group: cloudServices.cloudServiceGroup,
    provider: cloudServices.provider,
    account: cloudServices.account,
    project_id: cloudServices.projectId,
    workspace_id: cloudServices.workspaceId,
    collector_id: cloudServices.collectorId,
  }[column];
}

/** insertMany's statement: the rows as one JSON value, and with `history` their CREATE changes. */
function insertStatementOf(history: boolean): StatementTemplate<"payload"> {
  return statementTemplate(["payload"], (holes) =>
    sql`with v as materialized (
              select * from jsonb_to_recordset(${holes.payload}::jsonb) as v(
                cloud_service_id text, domain_id text, workspace_id text, project_id text, name text, cloud_service_type text,
                cloud_service_group text, provider text, account text, state text, data jsonb, tags jsonb, reference jsonb,
                resource_id text, collector_id text, job_task_id text, collected boolean, ${authorColumns}, h_diff jsonb)
            ), ins as (insert into ${cloudServices} as c (cloud_service_id, domain_id, workspace_id, project_id, name, cloud_service_type,
              cloud_service_group, provider, account, state, data, tags, reference, resource_id, collector_id, job_task_id,
              last_collected_at)
            select v.cloud_service_id, v.domain_id, v.workspace_id, v.project_id, v.name, v.cloud_service_type,
              v.cloud_service_group, v.provider, v.account, v.state, v.data, v.tags, v.reference, v.resource_id, v.collector_id,
              v.job_task_id, case when v.collected then now() end
            from v
            on conflict (domain_id, provider, cloud_service_type, resource_id) where state <> 'DELETED' and resource_id <> ''
            do nothing
            returning c.cloud_service_id, c.domain_id, c.workspace_id${history ? sql`, ${snapshotOf("c")} as snap` : sql``})
            ${
              history
                ? sql`, created as (
                    select ins.cloud_service_id, ins.domain_id, ins.workspace_id, ins.snap, v.h_diff, v.h_updated_by, v.h_author_id, v.h_user_id,
                      v.h_collector_id, v.h_job_id, v.h_job_task_id, v.h_rule_changes
                    from ins join v on v.cloud_service_id = ins.cloud_service_id
                  ), compact as (
                    select created.*, jsonb_build_object('after', created.snap) as compact from created where created.h_diff is null
                  ), compact_hist as (${insertCompactFrom("compact", "CREATE")}
                  ), src as (
                    select created.*, 'CREATE'::text as action, null::jsonb as old_snap, null::jsonb as new_snap, created.h_diff as given_diff
                    from created where created.h_diff is not null
                  ), hist as (${insertChangesFrom("src")})`
                : sql``
            }
            select cloud_service_id from ins`,
  );
}

/** updateCollected's statement: the rows as one JSON value, found in `domainId`; with `history` their UPDATE changes. */
function updateStatementOf(history: boolean): StatementTemplate<"payload" | "domainId"> {
  return statementTemplate(["payload", "domainId"], (holes) =>
    sql`with upd as (update ${cloudServices} as c set
              name = v.name,
              cloud_service_type = v.cloud_service_type,
              cloud_service_group = v.cloud_service_group,
              provider = v.provider,
              account = coalesce(nullif(v.account, ''), c.account),
              state = v.state,
              data = v.data,
              tags = c.tags || v.tags,
              reference = case when v.has_reference then v.reference else c.reference end,
              resource_id = case when v.has_reference then v.resource_id else c.resource_id end,
              project_id = coalesce(nullif(v.project_id, ''), c.project_id),
              workspace_id = coalesce(nullif(v.workspace_id, ''), c.workspace_id),
              collector_id = coalesce(nullif(v.collector_id, ''), c.collector_id),
              job_task_id = coalesce(nullif(v.job_task_id, ''), c.job_task_id),
              miss_count = 0,
              last_collected_at = now(),
              deleted_at = null,
              updated_at = now()
            from (
              select v.*, found.* from jsonb_to_recordset(${holes.payload}::jsonb) as v(
                cloud_service_id text, name text, cloud_service_type text, cloud_service_group text, provider text,
                account text, state text, data jsonb, tags jsonb, has_reference boolean, reference jsonb, resource_id text,
                project_id text, workspace_id text, collector_id text, job_task_id text, ${authorColumns})
              cross join lateral (
                select x.ctid as tid${history ? sql`, ${trackedColumns("x", "o_")}` : sql``}
                from ${cloudServices} x where x.cloud_service_id = v.cloud_service_id and x.domain_id = ${holes.domainId} offset 0
              ) found
            ) v
            where c.ctid = v.tid
            returning c.cloud_service_id, c.domain_id${
              history
                ? sql`, c.workspace_id,
                    case when ${trackedColumnsDiffer("c", "v", "o_")}
                      then ${compactUpdateOf("c", "v", "o_")} end as compact,
                    v.h_updated_by, v.h_author_id, v.h_user_id, v.h_collector_id, v.h_job_id, v.h_job_task_id, v.h_rule_changes`
                : sql``
            })
            ${
              history
                ? sql`, compact as (
                    select upd.* from upd where upd.compact is not null and upd.h_rule_changes = '{}'::jsonb
                  ), compact_hist as (${insertCompactFrom("compact", "UPDATE")}
                  ), src as (
                    select upd.*, 'UPDATE'::text as action, upd.compact -> 'before' as old_snap, upd.compact -> 'after' as new_snap, null::jsonb as given_diff
                    from upd where upd.compact is not null and upd.h_rule_changes <> '{}'::jsonb
                  ), hist as (${insertChangesFrom("src")})`
                : sql``
            }
            select cloud_service_id from upd`,
  );
}
