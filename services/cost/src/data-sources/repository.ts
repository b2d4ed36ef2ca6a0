import { and, eq } from "drizzle-orm";
import type { Database } from "@cloudforet/db";
import { isUniqueViolation } from "@cloudforet/db";
import { conflict } from "@cloudforet/errors";
import { enqueueEvent, eventSubject } from "@cloudforet/events";
import { col, defineQueryFields, json, listWith, scopeCondition, type QueryInput, type TenantScope } from "@cloudforet/query";
import { costs, dataSources, outbox, type DataSourceRow } from "../db/schema";

/** What DataSourceService.List and its query language can see. */
export const dataSourceFields = defineQueryFields(
  {
    data_source_id: col(dataSources.dataSourceId),
    name: col(dataSources.name),
    provider: col(dataSources.provider),
    tags: json(dataSources.tags),
    domain_id: col(dataSources.domainId),
    workspace_id: col(dataSources.workspaceId),
    created_at: col(dataSources.createdAt),
    updated_at: col(dataSources.updatedAt),
  },
  { keywordFields: ["data_source_id", "name", "provider"], defaultSort: [{ key: "created_at" }, { key: "data_source_id" }] },
);

export interface NewDataSource {
  dataSourceId: string;
  domainId: string;
  workspaceId: string;
  name: string;
  provider: string;
  tags: Record<string, string>;
}

/** Data sources of the whole domain (workspace_id "") are readable by every member. */
const inScope = (scope: TenantScope) => scopeCondition(scope, dataSources, { domainWideRows: true });

export class DataSourceRepository {
  constructor(
    private readonly db: Database,
    private readonly onCommit: () => void,
  ) {}

  /** Inserts the source and its `created` event; ERROR_CONFLICT when the domain already has the id. */
  async create(input: NewDataSource): Promise<DataSourceRow> {
    try {
      const row = await this.db.transaction(async (tx) => {
        const [created] = await tx.insert(dataSources).values(input).returning();
        await enqueueEvent(tx, outbox, {
          subject: eventSubject("cost", "data_source", "created"),
          domainId: input.domainId,
          data: { data_source_id: created.dataSourceId, provider: created.provider, workspace_id: created.workspaceId },
        });
        return created;
      });
      this.onCommit();
      return row;
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict("Data source already exists", { data_source_id: input.dataSourceId });
      throw err;
    }
  }

  async get(scope: TenantScope, dataSourceId: string): Promise<DataSourceRow | undefined> {
    const [row] = await this.db
      .select()
      .from(dataSources)
      .where(and(eq(dataSources.dataSourceId, dataSourceId), inScope(scope)));
    return row;
  }

  list(scope: TenantScope, query: QueryInput) {
    return listWith(this.db, dataSources, dataSourceFields, query, inScope(scope));
  }

  /** Deletes the source and every cost row it owns, in one transaction; false when it is not there. */
  async delete(scope: TenantScope, dataSourceId: string): Promise<boolean> {
    const deleted = await this.db.transaction(async (tx) => {
      const rows = await tx
        .delete(dataSources)
        .where(and(eq(dataSources.dataSourceId, dataSourceId), inScope(scope)))
        .returning({ workspaceId: dataSources.workspaceId });
      if (rows.length === 0) return false;
      await tx.delete(costs).where(and(eq(costs.domainId, scope.domainId), eq(costs.dataSourceId, dataSourceId)));
      await enqueueEvent(tx, outbox, {
        subject: eventSubject("cost", "data_source", "deleted"),
        domainId: scope.domainId,
        data: { data_source_id: dataSourceId, workspace_id: rows[0].workspaceId },
      });
      return true;
    });
    if (deleted) this.onCommit();
    return deleted;
  }
}
