import type { JsonObject } from "@bufbuild/protobuf";
import { and, eq } from "drizzle-orm";
import type { Database } from "@cloudforet/db";
import { isUniqueViolation } from "@cloudforet/db";
import { conflict } from "@cloudforet/errors";
import { col, defineQueryFields, json, listWith, scopeCondition, type QueryInput, type TenantScope } from "@cloudforet/query";
import { emitEvent } from "../db/emit-event";
import { serviceAccounts, type ServiceAccountRow } from "../db/schema";

export const serviceAccountFields = defineQueryFields(
  {
    service_account_id: col(serviceAccounts.serviceAccountId),
    name: col(serviceAccounts.name),
    provider: col(serviceAccounts.provider),
    data: json(serviceAccounts.data),
    tags: json(serviceAccounts.tags),
    project_id: col(serviceAccounts.projectId),
    workspace_id: col(serviceAccounts.workspaceId),
    secret_id: col(serviceAccounts.secretId),
    domain_id: col(serviceAccounts.domainId),
    created_at: col(serviceAccounts.createdAt),
    updated_at: col(serviceAccounts.updatedAt),
  },
  { keywordFields: ["service_account_id", "name", "provider"], defaultSort: { key: "service_account_id" } },
);

export type NewServiceAccount = Omit<ServiceAccountRow, "createdAt" | "updatedAt">;

export interface ServiceAccountPatch {
  name?: string;
  data?: JsonObject;
  tags: (current: Record<string, string>) => Record<string, string>;
  projectId?: string;
  secretId?: string;
}

const byId = (domainId: string, id: string) => and(eq(serviceAccounts.domainId, domainId), eq(serviceAccounts.serviceAccountId, id));

const eventData = (row: ServiceAccountRow) => ({
  domain_id: row.domainId,
  service_account_id: row.serviceAccountId,
  workspace_id: row.workspaceId,
  project_id: row.projectId,
  provider: row.provider,
});

export class ServiceAccountRepository {
  constructor(
    private readonly db: Database,
    private readonly onCommit: () => void,
  ) {}

  async create(input: NewServiceAccount): Promise<ServiceAccountRow> {
    try {
      const row = await this.db.transaction(async (tx) => {
        const [created] = await tx.insert(serviceAccounts).values(input).returning();
        await emitEvent(tx, "service_account", "created", input.domainId, eventData(created));
        return created;
      });
      this.onCommit();
      return row;
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict("Service account already exists", { service_account_id: input.serviceAccountId });
      throw err;
    }
  }

  async get(domainId: string, id: string): Promise<ServiceAccountRow | undefined> {
    const [row] = await this.db.select().from(serviceAccounts).where(byId(domainId, id));
    return row;
  }

  list(scope: TenantScope, query: QueryInput) {
    return listWith(this.db, serviceAccounts, serviceAccountFields, query, scopeCondition(scope, serviceAccounts));
  }

  async update(domainId: string, id: string, patch: ServiceAccountPatch): Promise<ServiceAccountRow | undefined> {
    const row = await this.db.transaction(async (tx) => {
      const [current] = await tx.select().from(serviceAccounts).where(byId(domainId, id)).for("update");
      if (!current) return undefined;
      const [updated] = await tx
        .update(serviceAccounts)
        .set({
          name: patch.name ?? current.name,
          data: patch.data ?? current.data,
          tags: patch.tags(current.tags),
          projectId: patch.projectId ?? current.projectId,
          secretId: patch.secretId ?? current.secretId,
          updatedAt: new Date(),
        })
        .where(byId(domainId, id))
        .returning();
      await emitEvent(tx, "service_account", "updated", domainId, eventData(updated));
      return updated;
    });
    if (row) this.onCommit();
    return row;
  }

  async delete(domainId: string, id: string): Promise<boolean> {
    const deleted = await this.db.transaction(async (tx) => {
      const [gone] = await tx.delete(serviceAccounts).where(byId(domainId, id)).returning();
      if (!gone) return false;
      await emitEvent(tx, "service_account", "deleted", domainId, eventData(gone));
      return true;
    });
    if (deleted) this.onCommit();
    return deleted;
  }
}
