import { invalidParameter, notFound, permissionDenied } from "@cloudforet/errors";
import { mergeTags, validateTags, type QueryInput } from "@cloudforet/query";
import type { Access } from "../access/access";
import type { EntityState, WorkspaceRow } from "../db/schema";
import { entityId, required, validName } from "../fields/field-rules";
import type { WorkspaceRepository } from "./repository";

export interface WorkspaceUpdate {
  workspaceId: string;
  name?: string;
  state?: EntityState;
  tags: Record<string, string>;
  removeTags: string[];
}

/** Workspaces of the caller's domain: DOMAIN_ADMIN creates and deletes, owners update, bound users read. */
export class WorkspaceRules {
  constructor(private readonly workspaces: WorkspaceRepository) {}

  create(access: Access, input: { workspaceId: string; name: string; tags: Record<string, string> }): Promise<WorkspaceRow> {
    access.requireAdmin("Creating a workspace");
    return this.workspaces.create({
      domainId: access.domainId,
      workspaceId: entityId(input.workspaceId, "workspace_id", "workspace"),
      name: validName(input.name),
      tags: validateTags(input.tags),
    });
  }

  /** A workspace the caller may see; NOT_FOUND otherwise (also for another domain's). */
  async get(access: Access, workspaceId: string): Promise<WorkspaceRow> {
    required(workspaceId, "workspace_id");
    const row = access.canRead(workspaceId) ? await this.workspaces.get(access.domainId, workspaceId) : undefined;
    if (!row) throw notFound("Workspace not found", { workspace_id: workspaceId });
    return row;
  }

  list(access: Access, query: QueryInput) {
    return this.workspaces.list(access.readScope(), query);
  }

  async update(access: Access, input: WorkspaceUpdate): Promise<WorkspaceRow> {
    await this.get(access, input.workspaceId);
    if (!access.isOwnerOf(input.workspaceId)) {
      throw permissionDenied("Updating a workspace needs DOMAIN_ADMIN or WORKSPACE_OWNER of it", { workspace_id: input.workspaceId });
    }
    const name = input.name === undefined ? undefined : validName(input.name);
    validateTags(input.tags);
    const row = await this.workspaces.update(access.domainId, input.workspaceId, {
      name,
      state: input.state,
      tags: (current) => mergeTags(current, input.tags, input.removeTags),
    });
    if (!row) throw notFound("Workspace not found", { workspace_id: input.workspaceId });
    return row;
  }

  async delete(access: Access, workspaceId: string): Promise<void> {
    access.requireAdmin("Deleting a workspace");
    required(workspaceId, "workspace_id");
    if (!(await this.workspaces.delete(access.domainId, workspaceId))) throw notFound("Workspace not found", { workspace_id: workspaceId });
  }

  /**
   * The workspace an entity is being created in or moved to: it must exist in the caller's domain
   * (INVALID_ARGUMENT naming `parameter` otherwise).
   */
  async existing(domainId: string, workspaceId: string, parameter = "workspace_id"): Promise<WorkspaceRow> {
    required(workspaceId, parameter);
    const row = await this.workspaces.get(domainId, workspaceId);
    if (!row) throw invalidParameter("Workspace not found in the domain", { parameter, value: workspaceId });
    return row;
  }
}

/** Reads still work in a disabled workspace; writes into it are refused. */
export function assertWritable(workspace: WorkspaceRow): void {
  if (workspace.state === "DISABLED") {
    throw permissionDenied("Workspace is disabled", { workspace_id: workspace.workspaceId });
  }
}

/** The wire enum's name, or INVALID_ARGUMENT for a number the contract does not define. */
export function stateName(value: number | undefined, names: Record<number, string>, parameter = "state"): EntityState | undefined {
  if (value === undefined) return undefined;
  const name = names[value];
  if (name !== "ENABLED" && name !== "DISABLED") throw invalidParameter("Unknown state", { parameter, value: String(value) });
  return name;
}
