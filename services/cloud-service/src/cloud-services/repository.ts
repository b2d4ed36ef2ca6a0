import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { and, eq, inArray, ne, sql, type SQL } from "drizzle-orm";
import type { Database, DatabaseExecutor } from "@cloudforet/db";
import { isUniqueViolation, queryRows } from "@cloudforet/db";
import { conflict } from "@cloudforet/errors";
import { col, defineQueryFields, json, listWith, statWith, type QueryInput, type StatQueryInput } from "@cloudforet/query";
import { cloudServices, type CloudServiceRow, type NewCloudServiceRow, type ResourceReference } from "../db/schema";
import { DELETED, DISCONNECTED, MISSES_BEFORE_DELETE, type MatchKey } from "./rules";
import { scopeCondition, type Scope } from "./scope";

/** What List, Stat and their query language can see of a resource. */
export const cloudServiceFields = defineQueryFields(
  {
    cloud_service_id: col(cloudServices.cloudServiceId),
    name: col(cloudServices.name),
    cloud_service_type: col(cloudServices.cloudServiceType),
    cloud_service_group: col(cloudServices.cloudServiceGroup),
    provider: col(cloudServices.provider),
    account: col(cloudServices.account),
    state: col(cloudServices.state),
    data: json(cloudServices.data),
    tags: json(cloudServices.tags),
    reference: json(cloudServices.reference),
    project_id: col(cloudServices.projectId),
    workspace_id: col(cloudServices.workspaceId),
    domain_id: col(cloudServices.domainId),
    collector_id: col(cloudServices.collectorId),
    job_task_id: col(cloudServices.jobTaskId),
    last_collected_at: col(cloudServices.lastCollectedAt, "datetime"),
    created_at: col(cloudServices.createdAt, "datetime"),
    updated_at: col(cloudServices.updatedAt, "datetime"),
    deleted_at: col(cloudServices.deletedAt, "datetime"),
  },
  { keywordFields: ["name", "cloud_service_id", "reference.resource_id"], defaultSort: [{ key: "created_at" }, { key: "cloud_service_id" }] },
);

/** The changes an Update makes; absent fields stay as they are. */
export interface CloudServicePatch {
  name?: string;
  cloudServiceGroup?: string;
  state?: string;
  data?: JsonObject;
  tags?: Record<string, string>;
  reference?: ResourceReference;
  projectId?: string;
  workspaceId?: string;
  deletedAt?: Date | null;
  missCount?: number;
}

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
}

/** A resource already stored under a match key (the batch path's lookup). */
export interface MatchedResource {
  cloudServiceId: string;
  provider: string;
  cloudServiceType: string;
  resourceId: string;
  workspaceId: string;
}

export interface SweepResult {
  disconnectedCount: number;
  deletedCount: number;
}

/** Drizzle access to resources. Every read and write takes the caller's scope. */
export class CloudServiceRepository {
  constructor(private readonly db: Database) {}

  /** Inserts one resource; a live resource with the same resource id, provider and type is a conflict. */
  async insert(row: NewCloudServiceRow): Promise<CloudServiceRow> {
    try {
      const [created] = await this.db.insert(cloudServices).values(row).returning();
      return created;
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict("Resource already exists", { resource_id: row.resourceId });
      throw err;
    }
  }

  /**
   * Inserts many resources in one statement (the rows travel as one JSON parameter, which is much
   * cheaper than thousands of bound values). Rows whose live key was taken meanwhile are skipped,
   * so the caller can retry them as updates. Returns the ids inserted.
   */
  async insertMany(rows: NewCloudServiceRow[], db: DatabaseExecutor = this.db): Promise<string[]> {
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
      last_collected_at: row.lastCollectedAt instanceof Date ? row.lastCollectedAt.toISOString() : null,
    }));
    const inserted = await queryRows<{ cloud_service_id: string }>(
      db,
      sql`insert into ${cloudServices} (cloud_service_id, domain_id, workspace_id, project_id, name, cloud_service_type,
            cloud_service_group, provider, account, state, data, tags, reference, resource_id, collector_id, job_task_id,
            last_collected_at)
          select v.cloud_service_id, v.domain_id, v.workspace_id, v.project_id, v.name, v.cloud_service_type,
            v.cloud_service_group, v.provider, v.account, v.state, v.data, v.tags, v.reference, v.resource_id, v.collector_id,
            v.job_task_id, v.last_collected_at
          from jsonb_to_recordset(${JSON.stringify(payload)}::jsonb) as v(
            cloud_service_id text, domain_id text, workspace_id text, project_id text, name text, cloud_service_type text,
            cloud_service_group text, provider text, account text, state text, data jsonb, tags jsonb, reference jsonb,
            resource_id text, collector_id text, job_task_id text, last_collected_at timestamptz)
          on conflict (domain_id, provider, cloud_service_type, resource_id) where state <> 'DELETED' and resource_id <> ''
          do nothing
          returning cloud_service_id`,
    );
    return inserted.map((row) => row.cloud_service_id);
  }

  /** A live (not DELETED) resource with this key, if any. */
  async findLive(domainId: string, provider: string, type: string, resourceId: string): Promise<CloudServiceRow | undefined> {
    const [row] = await this.db
      .select()
      .from(cloudServices)
      .where(
        and(
          eq(cloudServices.domainId, domainId),
          eq(cloudServices.provider, provider),
          eq(cloudServices.cloudServiceType, type),
          eq(cloudServices.resourceId, resourceId),
          ne(cloudServices.state, DELETED),
        ),
      )
      .limit(1);
    return row;
  }

  async get(scope: Scope, id: string): Promise<CloudServiceRow | undefined> {
    const [row] = await this.db
      .select()
      .from(cloudServices)
      .where(and(eq(cloudServices.cloudServiceId, id), scopeCondition(scope)));
    return row;
  }

  async getMany(domainId: string, ids: string[]): Promise<CloudServiceRow[]> {
    if (ids.length === 0) return [];
    return this.db
      .select()
      .from(cloudServices)
      .where(and(eq(cloudServices.domainId, domainId), inArray(cloudServices.cloudServiceId, ids)));
  }

  /** Applies an Update's patch under a row lock; undefined when the resource is not in scope. */
  async update(scope: Scope, id: string, build: (current: CloudServiceRow) => CloudServicePatch): Promise<CloudServiceRow | undefined> {
    try {
      return await this.db.transaction(async (tx) => {
        const [current] = await tx
          .select()
          .from(cloudServices)
          .where(and(eq(cloudServices.cloudServiceId, id), scopeCondition(scope)))
          .for("update");
        if (!current) return undefined;
        const patch = build(current);
        const [updated] = await tx
          .update(cloudServices)
          .set({
            ...patch,
            ...(patch.reference ? { resourceId: patch.reference.resource_id } : {}),
            updatedAt: sql`now()`,
          })
          .where(eq(cloudServices.cloudServiceId, id))
          .returning();
        return updated;
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict("Resource already exists", { resource_id: id });
      throw err;
    }
  }

  /** Soft delete: state DELETED and deleted_at; a DELETED resource is left as it is. */
  async softDelete(scope: Scope, id: string): Promise<CloudServiceRow | undefined> {
    const [row] = await this.db
      .update(cloudServices)
      .set({ state: DELETED, deletedAt: sql`now()`, updatedAt: sql`now()` })
      .where(and(eq(cloudServices.cloudServiceId, id), scopeCondition(scope), ne(cloudServices.state, DELETED)))
      .returning();
    return row ?? (await this.get(scope, id));
  }

  list(scope: Scope, query: QueryInput, includeDeleted: boolean) {
    return listWith(this.db, cloudServices, cloudServiceFields, query, this.visible(scope, includeDeleted));
  }

  stat(scope: Scope, query: StatQueryInput, includeDeleted: boolean) {
    return statWith(this.db, cloudServices, cloudServiceFields, query, this.visible(scope, includeDeleted));
  }

  private visible(scope: Scope, includeDeleted: boolean): SQL {
    return includeDeleted ? scopeCondition(scope) : and(scopeCondition(scope), ne(cloudServices.state, DELETED))!;
  }

  /**
   * Every resource of the domain (DELETED ones too) stored under one of the default-rule keys
   * (provider, cloud_service_type, reference.resource_id), in one query.
   */
  async findByDefaultKeys(domainId: string, keys: { provider: string; type: string; resourceId: string }[]): Promise<MatchedResource[]> {
    if (keys.length === 0) return [];
    const rows = await queryRows<{ cloud_service_id: string; provider: string; cloud_service_type: string; resource_id: string; workspace_id: string }>(
      this.db,
      sql`select c.cloud_service_id, c.provider, c.cloud_service_type, c.resource_id, c.workspace_id
          from ${cloudServices} c
          join jsonb_to_recordset(${JSON.stringify(keys.map((k) => ({ provider: k.provider, cloud_service_type: k.type, resource_id: k.resourceId })))}::jsonb)
            as k(provider text, cloud_service_type text, resource_id text)
            on c.provider = k.provider and c.cloud_service_type = k.cloud_service_type and c.resource_id = k.resource_id
          where c.domain_id = ${domainId}`,
    );
    return rows.map((r) => ({
      cloudServiceId: r.cloud_service_id,
      provider: r.provider,
      cloudServiceType: r.cloud_service_type,
      resourceId: r.resource_id,
      workspaceId: r.workspace_id,
    }));
  }

  /** Up to two resources of the domain whose values at the keys equal the given ones (any state). */
  async findByRule(domainId: string, conditions: { key: MatchKey; value: JsonValue }[]): Promise<CloudServiceRow[]> {
    return this.db
      .select()
      .from(cloudServices)
      .where(and(eq(cloudServices.domainId, domainId), ...conditions.map(matchCondition)))
      .limit(2);
  }

  /**
   * Gives matched resources their collected values in one statement: data replaced, tags merged,
   * state recomputed (a DISCONNECTED or DELETED resource comes back), seen now. Returns the ids updated.
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
    }));
    const rows = await queryRows<{ cloud_service_id: string }>(
      db,
      sql`update ${cloudServices} as c set
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
          from jsonb_to_recordset(${JSON.stringify(payload)}::jsonb) as v(
            cloud_service_id text, name text, cloud_service_type text, cloud_service_group text, provider text,
            account text, state text, data jsonb, tags jsonb, has_reference boolean, reference jsonb, resource_id text,
            project_id text, workspace_id text, collector_id text, job_task_id text)
          where c.cloud_service_id = v.cloud_service_id and c.domain_id = ${domainId}
          returning c.cloud_service_id`,
    );
    return rows.map((r) => r.cloud_service_id);
  }

  /**
   * The end of a finished collection: resources of the collector and account that the task did
   * not write miss once more; they turn DISCONNECTED, and DELETED at the third miss in a row.
   */
  async sweepMissed(db: DatabaseExecutor, input: { domainId: string; collectorId: string; account: string; jobTaskId: string }): Promise<SweepResult> {
    const rows = await queryRows<{ state: string }>(
      db,
      sql`update ${cloudServices} set
            miss_count = miss_count + 1,
            state = case when miss_count + 1 >= ${MISSES_BEFORE_DELETE} then ${DELETED} else ${DISCONNECTED} end,
            deleted_at = case when miss_count + 1 >= ${MISSES_BEFORE_DELETE} then now() else deleted_at end,
            updated_at = now()
          where domain_id = ${input.domainId} and collector_id = ${input.collectorId} and account = ${input.account}
            and job_task_id <> ${input.jobTaskId} and state <> ${DELETED}
          returning state`,
    );
    const deletedCount = rows.filter((r) => r.state === DELETED).length;
    return { disconnectedCount: rows.length - deletedCount, deletedCount };
  }
}

/** One key of a match rule as SQL: a column, or JSON equality at a path into data/tags/reference. */
function matchCondition({ key, value }: { key: MatchKey; value: JsonValue }): SQL {
  if (key.kind === "column") {
    const column = {
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
    }[key.column];
    return eq(column, String(value));
  }
  if (key.field === "reference" && key.path.length === 1 && key.path[0] === "resource_id") {
    return eq(cloudServices.resourceId, String(value));
  }
  const column = key.field === "data" ? cloudServices.data : key.field === "tags" ? cloudServices.tags : cloudServices.reference;
  return sql`${column} #> ${`{${key.path.join(",")}}`}::text[] = ${JSON.stringify(value)}::jsonb`;
}
