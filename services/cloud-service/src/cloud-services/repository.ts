import type { JsonObject } from "@bufbuild/protobuf";
import { and, eq, inArray, ne, sql, type SQL } from "drizzle-orm";
import type { Database } from "@cloudforet/db";
import { isUniqueViolation, queryRows } from "@cloudforet/db";
import { conflict } from "@cloudforet/errors";
import { col, defineQueryFields, json, listWith, scopeCondition, statWith, tableReader, type QueryInput, type StatQueryInput, type TenantScope } from "@cloudforet/query";
import { cloudServices, type CloudServiceRow, type NewCloudServiceRow, type ResourceReference } from "../db/schema";
import { DELETED } from "./cloud-services";
import type { ChangeHistoryRepository } from "../change-history/repository";
import type { ChangeAuthor } from "../change-history/history-sql";

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

/**
 * How many matching resources a List counts exactly (beyond the end of its page): a domain may
 * hold a million resources, and counting ten thousand matches of a 10%-selective filter reads
 * a hundred thousand rows per page. Beyond it total_count is a lower bound (README "Queries at
 * scale"); `count_only` still counts exactly.
 */
export const RESOURCE_COUNT_CAP = 1_000;

/** A resource's whole row, its select list rendered once (Get and Upsert's answer read it on every call). */
const wholeRow = tableReader(cloudServices);

const inScope = (scope: TenantScope) => scopeCondition(scope, { domainId: cloudServices.domainId, workspaceId: cloudServices.workspaceId });

/** Drizzle access to resources. Every read and write takes the caller's scope. */
export class CloudServiceRepository {
  /** `history` records each write's changes in its transaction (absent: none, for unit tests of other parts). */
  constructor(
    private readonly db: Database,
    private readonly history?: ChangeHistoryRepository,
  ) {}

  /** Inserts one resource; a live resource with the same resource id, provider and type is a conflict. */
  async insert(row: NewCloudServiceRow, author?: ChangeAuthor): Promise<CloudServiceRow> {
    try {
      return await this.db.transaction(async (tx) => {
        const [created] = await tx.insert(cloudServices).values(row).returning();
        if (this.history && author) await this.history.record(tx, created.cloudServiceId, "CREATE", null, author);
        return created;
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict("Resource already exists", { resource_id: row.resourceId });
      throw err;
    }
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

  async get(scope: TenantScope, id: string): Promise<CloudServiceRow | undefined> {
    const [row] = await queryRows(this.db, sql`select ${wholeRow.text} from ${cloudServices} where ${and(eq(cloudServices.cloudServiceId, id), inScope(scope))}`);
    return row && wholeRow.decode(row);
  }

  async getMany(domainId: string, ids: string[]): Promise<CloudServiceRow[]> {
    if (ids.length === 0) return [];
    return this.db
      .select()
      .from(cloudServices)
      .where(and(eq(cloudServices.domainId, domainId), inArray(cloudServices.cloudServiceId, ids)));
  }

  /** Applies an Update's patch under a row lock; undefined when the resource is not in scope. */
  async update(scope: TenantScope, id: string, build: (current: CloudServiceRow) => CloudServicePatch, author?: ChangeAuthor): Promise<CloudServiceRow | undefined> {
    try {
      return await this.db.transaction(async (tx) => {
        const [current] = await tx
          .select()
          .from(cloudServices)
          .where(and(eq(cloudServices.cloudServiceId, id), inScope(scope)))
          .for("update");
        if (!current) return undefined;
        const patch = build(current);
        const before = this.history && author ? await this.history.snapshot(tx, id) : null;
        const [updated] = await tx
          .update(cloudServices)
          .set({
            ...patch,
            ...(patch.reference ? { resourceId: patch.reference.resource_id } : {}),
            updatedAt: sql`now()`,
          })
          .where(eq(cloudServices.cloudServiceId, id))
          .returning();
        if (this.history && author) await this.history.record(tx, id, "UPDATE", before, author);
        return updated;
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict("Resource already exists", { resource_id: id });
      throw err;
    }
  }

  /** Soft delete: state DELETED and deleted_at; a DELETED resource is left as it is. */
  async softDelete(scope: TenantScope, id: string, author?: ChangeAuthor): Promise<CloudServiceRow | undefined> {
    const row = await this.db.transaction(async (tx) => {
      const before = this.history && author ? await this.history.snapshot(tx, id) : null;
      const [deleted] = await tx
        .update(cloudServices)
        .set({ state: DELETED, deletedAt: sql`now()`, updatedAt: sql`now()` })
        .where(and(eq(cloudServices.cloudServiceId, id), inScope(scope), ne(cloudServices.state, DELETED)))
        .returning();
      if (deleted && this.history && author) await this.history.record(tx, id, "DELETE", before, author);
      return deleted;
    });
    return row ?? (await this.get(scope, id));
  }

  list(scope: TenantScope, query: QueryInput, includeDeleted: boolean) {
    return listWith(this.db, cloudServices, cloudServiceFields, query, this.visible(scope, includeDeleted), { countCap: RESOURCE_COUNT_CAP });
  }

  stat(scope: TenantScope, query: StatQueryInput, includeDeleted: boolean) {
    return statWith(this.db, cloudServices, cloudServiceFields, query, this.visible(scope, includeDeleted));
  }

  private visible(scope: TenantScope, includeDeleted: boolean): SQL {
    return includeDeleted ? inScope(scope) : and(inScope(scope), ne(cloudServices.state, DELETED))!;
  }

}
