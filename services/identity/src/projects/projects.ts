import { notFound, permissionDenied } from "@cloudforet/errors";
import { mergeTags, validateTags, type QueryInput } from "@cloudforet/query";
import type { Access } from "../access/access";
import type { ProjectRow } from "../db/schema";
import { entityId, required, validName } from "../fields/field-rules";
import { assertWritable, type WorkspaceRules } from "../workspaces/workspaces";
import type { ProjectRepository } from "./repository";

/** Projects: DOMAIN_ADMIN or WORKSPACE_OWNER of the workspace writes, any role on it reads. */
export class ProjectRules {
  constructor(
    private readonly projects: ProjectRepository,
    private readonly workspaces: WorkspaceRules,
  ) {}

  async create(access: Access, input: { projectId: string; name: string; workspaceId: string; tags: Record<string, string> }): Promise<ProjectRow> {
    const projectId = entityId(input.projectId, "project_id", "project");
    const name = validName(input.name);
    const tags = validateTags(input.tags);
    const workspace = await this.workspaces.existing(access.domainId, input.workspaceId);
    requireOwner(access, workspace.workspaceId, "Creating a project");
    assertWritable(workspace);
    return this.projects.create({ domainId: access.domainId, projectId, name, workspaceId: workspace.workspaceId, tags });
  }

  /** A project of a workspace the caller cannot see answers NOT_FOUND. */
  async get(access: Access, projectId: string): Promise<ProjectRow> {
    required(projectId, "project_id");
    const row = await this.projects.get(access.domainId, projectId);
    if (!row || !access.canRead(row.workspaceId)) throw notFound("Project not found", { project_id: projectId });
    return row;
  }

  list(access: Access, query: QueryInput) {
    return this.projects.list(access.readScope(), query);
  }

  async update(access: Access, input: { projectId: string; name?: string; tags: Record<string, string>; removeTags: string[] }): Promise<ProjectRow> {
    const current = await this.get(access, input.projectId);
    requireOwner(access, current.workspaceId, "Updating a project");
    assertWritable(await this.workspaces.existing(access.domainId, current.workspaceId));
    const name = input.name === undefined ? undefined : validName(input.name);
    validateTags(input.tags);
    const row = await this.projects.update(access.domainId, input.projectId, { name, tags: (tags) => mergeTags(tags, input.tags, input.removeTags) });
    if (!row) throw notFound("Project not found", { project_id: input.projectId });
    return row;
  }

  async delete(access: Access, projectId: string): Promise<void> {
    const current = await this.get(access, projectId);
    requireOwner(access, current.workspaceId, "Deleting a project");
    assertWritable(await this.workspaces.existing(access.domainId, current.workspaceId));
    if (!(await this.projects.delete(access.domainId, projectId))) throw notFound("Project not found", { project_id: projectId });
  }

  /** For service accounts: the project must exist in the domain and lie in `workspaceId`. */
  async inWorkspace(domainId: string, projectId: string, workspaceId: string): Promise<ProjectRow | undefined> {
    const row = await this.projects.get(domainId, projectId);
    return row && row.workspaceId === workspaceId ? row : undefined;
  }
}

function requireOwner(access: Access, workspaceId: string, action: string): void {
  if (!access.isOwnerOf(workspaceId)) {
    throw permissionDenied(`${action} needs DOMAIN_ADMIN or WORKSPACE_OWNER of the workspace`, { workspace_id: workspaceId });
  }
}
