import { and, count, eq, inArray } from "drizzle-orm";
import type { PgColumn } from "drizzle-orm/pg-core";
import type { Database } from "@cloudforet/db";
import { isUniqueViolation } from "@cloudforet/db";
import { conflict, illegalTransition } from "@cloudforet/errors";
import { col, defineQueryFields, json, listWith, scopeCondition, type QueryInput, type TenantScope } from "@cloudforet/query";
import { emitEvent } from "../db/emit-event";
import { projects, roleBindings, secrets, serviceAccounts, users, workspaces, type EntityState, type WorkspaceRow } from "../db/schema";
import { emitRolesChanged } from "../users/roles-changed";

export const workspaceFields = defineQueryFields(
  {
    workspace_id: col(workspaces.workspaceId),
    name: col(workspaces.name),
    state: col(workspaces.state),
    tags: json(workspaces.tags),
    domain_id: col(workspaces.domainId),
    created_at: col(workspaces.createdAt),
    updated_at: col(workspaces.updatedAt),
  },
  { keywordFields: ["workspace_id", "name"], defaultSort: { key: "workspace_id" } },
);

export interface WorkspacePatch {
  name?: string;
  state?: EntityState;
  tags: (current: Record<string, string>) => Record<string, string>;
}

const byId = (domainId: string, workspaceId: string) => and(eq(workspaces.domainId, domainId), eq(workspaces.workspaceId, workspaceId));

export class WorkspaceRepository {
  constructor(
    private readonly db: Database,
    private readonly onCommit: () => void,
  ) {}

  async create(input: { domainId: string; workspaceId: string; name: string; tags: Record<string, string> }): Promise<WorkspaceRow> {
    try {
      const row = await this.db.transaction(async (tx) => {
        const [created] = await tx.insert(workspaces).values(input).returning();
        await emitEvent(tx, "workspace", "created", input.domainId, { domain_id: input.domainId, workspace_id: created.workspaceId });
        return created;
      });
      this.onCommit();
      return row;
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict("Workspace already exists", { workspace_id: input.workspaceId });
      throw err;
    }
  }

  async get(domainId: string, workspaceId: string): Promise<WorkspaceRow | undefined> {
    const [row] = await this.db.select().from(workspaces).where(byId(domainId, workspaceId));
    return row;
  }

  /** The workspaces the scope may read (all of the domain for an admin). */
  list(scope: TenantScope, query: QueryInput) {
    return listWith(this.db, workspaces, workspaceFields, query, scopeCondition(scope, workspaces));
  }

  async update(domainId: string, workspaceId: string, patch: WorkspacePatch): Promise<WorkspaceRow | undefined> {
    const row = await this.db.transaction(async (tx) => {
      const [current] = await tx.select().from(workspaces).where(byId(domainId, workspaceId)).for("update");
      if (!current) return undefined;
      const [updated] = await tx
        .update(workspaces)
        .set({ name: patch.name ?? current.name, state: patch.state ?? current.state, tags: patch.tags(current.tags), updatedAt: new Date() })
        .where(byId(domainId, workspaceId))
        .returning();
      await emitEvent(tx, "workspace", "updated", domainId, { domain_id: domainId, workspace_id: workspaceId, state: updated.state });
      return updated;
    });
    if (row) this.onCommit();
    return row;
  }

  /**
   * Deletes an empty workspace and the role bindings on it. A workspace that still holds projects,
   * service accounts or secrets is refused (FAILED_PRECONDITION).
   */
  async delete(domainId: string, workspaceId: string): Promise<boolean> {
    const deleted = await this.db.transaction(async (tx) => {
      const [current] = await tx.select().from(workspaces).where(byId(domainId, workspaceId)).for("update");
      if (!current) return false;
      const scope = <T extends { domainId: PgColumn; workspaceId: PgColumn }>(t: T) => and(eq(t.domainId, domainId), eq(t.workspaceId, workspaceId));
      const [p] = await tx.select({ n: count() }).from(projects).where(scope(projects));
      const [sa] = await tx.select({ n: count() }).from(serviceAccounts).where(scope(serviceAccounts));
      const [s] = await tx.select({ n: count() }).from(secrets).where(scope(secrets));
      if (p.n + sa.n + s.n > 0) {
        throw illegalTransition("Workspace still holds projects, service accounts or secrets", {
          workspace_id: workspaceId,
          projects: p.n,
          service_accounts: sa.n,
          secrets: s.n,
        });
      }
      // The members lose this workspace: lock them (in one order, as binding changes lock a user)
      // so the roles_changed events below carry their bindings as committed.
      const members = await tx
        .selectDistinct({ userId: roleBindings.userId })
        .from(roleBindings)
        .where(and(eq(roleBindings.domainId, domainId), eq(roleBindings.workspaceId, workspaceId)));
      if (members.length > 0) {
        await tx
          .select({ userId: users.userId })
          .from(users)
          .where(and(eq(users.domainId, domainId), inArray(users.userId, members.map((m) => m.userId))))
          .orderBy(users.userId)
          .for("update");
      }
      const unbound = await tx
        .delete(roleBindings)
        .where(and(eq(roleBindings.domainId, domainId), eq(roleBindings.workspaceId, workspaceId)))
        .returning({ userId: roleBindings.userId });
      await tx.delete(workspaces).where(byId(domainId, workspaceId));
      await emitEvent(tx, "workspace", "deleted", domainId, { domain_id: domainId, workspace_id: workspaceId });
      for (const userId of [...new Set(unbound.map((b) => b.userId))].sort()) await emitRolesChanged(tx, domainId, userId);
      return true;
    });
    if (deleted) this.onCommit();
    return deleted;
  }
}
