import { and, eq } from "drizzle-orm";
import type { Database } from "@cloudforet/db";
import { isUniqueViolation } from "@cloudforet/db";
import { conflict } from "@cloudforet/errors";
import { col, defineQueryFields, json, listWith, scopeCondition, type QueryInput, type TenantScope } from "@cloudforet/query";
import { emitEvent } from "../db/emit-event";
import { projects, serviceAccounts, type ProjectRow } from "../db/schema";

export const projectFields = defineQueryFields(
  {
    project_id: col(projects.projectId),
    name: col(projects.name),
    workspace_id: col(projects.workspaceId),
    tags: json(projects.tags),
    domain_id: col(projects.domainId),
    created_at: col(projects.createdAt),
    updated_at: col(projects.updatedAt),
  },
  { keywordFields: ["project_id", "name"], defaultSort: { key: "project_id" } },
);

const byId = (domainId: string, projectId: string) => and(eq(projects.domainId, domainId), eq(projects.projectId, projectId));

export class ProjectRepository {
  constructor(
    private readonly db: Database,
    private readonly onCommit: () => void,
  ) {}

  async create(input: { domainId: string; projectId: string; name: string; workspaceId: string; tags: Record<string, string> }): Promise<ProjectRow> {
    try {
      const row = await this.db.transaction(async (tx) => {
        const [created] = await tx.insert(projects).values(input).returning();
        await emitEvent(tx, "project", "created", input.domainId, { domain_id: input.domainId, project_id: created.projectId, workspace_id: created.workspaceId });
        return created;
      });
      this.onCommit();
      return row;
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict("Project already exists", { project_id: input.projectId });
      throw err;
    }
  }

  async get(domainId: string, projectId: string): Promise<ProjectRow | undefined> {
    const [row] = await this.db.select().from(projects).where(byId(domainId, projectId));
    return row;
  }

  list(scope: TenantScope, query: QueryInput) {
    return listWith(this.db, projects, projectFields, query, scopeCondition(scope, projects));
  }

  async update(domainId: string, projectId: string, patch: { name?: string; tags: (current: Record<string, string>) => Record<string, string> }): Promise<ProjectRow | undefined> {
    const row = await this.db.transaction(async (tx) => {
      const [current] = await tx.select().from(projects).where(byId(domainId, projectId)).for("update");
      if (!current) return undefined;
      const [updated] = await tx
        .update(projects)
        .set({ name: patch.name ?? current.name, tags: patch.tags(current.tags), updatedAt: new Date() })
        .where(byId(domainId, projectId))
        .returning();
      await emitEvent(tx, "project", "updated", domainId, { domain_id: domainId, project_id: projectId, workspace_id: updated.workspaceId });
      return updated;
    });
    if (row) this.onCommit();
    return row;
  }

  /** Deletes the project; its service accounts stay in the workspace, detached from it. */
  async delete(domainId: string, projectId: string): Promise<boolean> {
    const deleted = await this.db.transaction(async (tx) => {
      const gone = await tx.delete(projects).where(byId(domainId, projectId)).returning({ workspaceId: projects.workspaceId });
      if (gone.length === 0) return false;
      await tx
        .update(serviceAccounts)
        .set({ projectId: "", updatedAt: new Date() })
        .where(and(eq(serviceAccounts.domainId, domainId), eq(serviceAccounts.projectId, projectId)));
      await emitEvent(tx, "project", "deleted", domainId, { domain_id: domainId, project_id: projectId, workspace_id: gone[0].workspaceId });
      return true;
    });
    if (deleted) this.onCommit();
    return deleted;
  }
}
