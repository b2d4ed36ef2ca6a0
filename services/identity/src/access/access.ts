import type { HandlerContext } from "@connectrpc/connect";
import { permissionDenied } from "@cloudforet/errors";
import type { TenantScope } from "@cloudforet/query";
import { callerOf, type Caller } from "@cloudforet/runtime";

/** The domain created on first start; its DOMAIN_ADMINs administer the platform (DomainService). */
export const DEFAULT_DOMAIN_ID = "domain-default";

/**
 * What the caller may do in identity, from the role bindings in its token: DOMAIN_ADMIN everything
 * in its domain; WORKSPACE_OWNER read and write everything of its workspace (members, projects);
 * WORKSPACE_MEMBER read its workspace and write its resources (service accounts, secrets).
 */
export class Access {
  constructor(readonly caller: Caller) {}

  static of(ctx: HandlerContext): Access {
    return new Access(callerOf(ctx));
  }

  get domainId(): string {
    return this.caller.domainId;
  }

  get userId(): string {
    return this.caller.userId;
  }

  get isAdmin(): boolean {
    return this.caller.domainAdmin || this.roles().some((r) => r.role === "DOMAIN_ADMIN");
  }

  /** DOMAIN_ADMIN of domain-default: may create, list and delete domains. */
  get isPlatformAdmin(): boolean {
    return this.isAdmin && this.domainId === DEFAULT_DOMAIN_ID;
  }

  /** Workspaces the caller is bound to (a domain admin sees every workspace besides). */
  get workspaceIds(): string[] {
    const fromRoles = this.roles().flatMap((r) => (r.workspace_id ? [r.workspace_id] : []));
    return [...new Set([...this.caller.workspaceIds, ...fromRoles])];
  }

  canRead(workspaceId: string): boolean {
    return this.isAdmin || this.workspaceIds.includes(workspaceId);
  }

  /** Owner-level writes: projects, role bindings of the workspace, the workspace itself. */
  isOwnerOf(workspaceId: string): boolean {
    return this.isAdmin || this.roles().some((r) => r.role === "WORKSPACE_OWNER" && r.workspace_id === workspaceId);
  }

  /** Resource writes (service accounts, secrets): any role on the workspace. */
  canWriteResources(workspaceId: string): boolean {
    return this.isAdmin || this.roles().some((r) => r.workspace_id === workspaceId && (r.role === "WORKSPACE_OWNER" || r.role === "WORKSPACE_MEMBER"));
  }

  /** The workspaces a List may show, or undefined for "all of the domain". */
  visibleWorkspaces(): string[] | undefined {
    return this.isAdmin ? undefined : this.workspaceIds;
  }

  /** What a List may show, as the shared tenant scope: the whole domain, or the visible workspaces. */
  readScope(): TenantScope {
    const visible = this.visibleWorkspaces();
    return visible === undefined ? { domainId: this.domainId } : { domainId: this.domainId, workspaceIds: visible };
  }

  requireAdmin(action: string): void {
    if (!this.isAdmin) throw permissionDenied(`${action} needs the DOMAIN_ADMIN role`, { domain_id: this.domainId });
  }

  private roles() {
    return this.caller.roles ?? [];
  }
}
