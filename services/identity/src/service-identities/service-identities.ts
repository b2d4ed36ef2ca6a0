import { authenticateFailure, invalidParameter, missingParameter, notFound, permissionDenied } from "@cloudforet/errors";
import type { Access } from "../access/access";
import type { TokenIssuer } from "../auth/token-issuer";
import type { ServiceIdentityRow } from "../db/schema";
import { validId } from "../fields/field-rules";
import type { WorkspaceRepository } from "../workspaces/repository";
import type { ServiceIdentityRepository } from "./repository";

/** Services that may hold an identity, and the role it carries (the least their unattended work needs). */
export const TRUSTED_SERVICES = new Set(["inventory", "orchestration"]);

const PRINCIPAL_MARK = "svc:";

/** The token subject of a service identity. User ids cannot contain ':', so it never names a user. */
export const principalOf = (row: Pick<ServiceIdentityRow, "service" | "serviceIdentityId">) => `${PRINCIPAL_MARK}${row.service}:${row.serviceIdentityId}`;

/** The identity id a token subject names, or undefined for a user's subject. */
export function serviceIdentityIdOf(subject: string): string | undefined {
  if (!subject.startsWith(PRINCIPAL_MARK)) return undefined;
  const id = subject.slice(subject.lastIndexOf(":") + 1);
  return id || undefined;
}

/**
 * Service identities: granted by a workspace owner (or domain admin) to a trusted service, they
 * carry WORKSPACE_OWNER of that workspace and nothing else, outlive the granting user, and mint
 * short-lived tokens for whoever holds the credential. A wrong or revoked credential gets one
 * answer (UNAUTHENTICATED), whatever the reason.
 */
export class ServiceIdentityRules {
  constructor(
    private readonly identities: ServiceIdentityRepository,
    private readonly workspaces: WorkspaceRepository,
    private readonly issuer: TokenIssuer,
  ) {}

  async grant(access: Access, input: { service: string; workspaceId: string }): Promise<{ row: ServiceIdentityRow; credential: string }> {
    // Empty: inventory (collections), as before orchestration (recurrent requests) held identities too.
    const service = input.service || "inventory";
    if (!TRUSTED_SERVICES.has(service)) {
      throw invalidParameter("Unknown service: only inventory and orchestration hold service identities", { parameter: "service", value: input.service.slice(0, 64) });
    }
    if (!input.workspaceId) throw missingParameter("workspace_id");
    validId(input.workspaceId, "workspace_id");
    if (!access.isOwnerOf(input.workspaceId)) throw permissionDenied("Granting a service identity needs WORKSPACE_OWNER of the workspace", { workspace_id: input.workspaceId });
    // Another domain's workspace answers as a missing one (README "Logging in").
    if (!(await this.workspaces.get(access.domainId, input.workspaceId))) throw notFound("Workspace not found", { workspace_id: input.workspaceId });
    return this.identities.create({ domainId: access.domainId, workspaceId: input.workspaceId, service, grantedBy: access.userId });
  }

  async issueToken(credential: string): Promise<{ row: ServiceIdentityRow; token: string; expiresAt: Date }> {
    if (!credential) throw missingParameter("credential");
    const row = await this.identities.byCredential(credential);
    if (!row || row.state !== "ENABLED") throw authenticateFailure("Invalid service identity credential");
    const { token, expiresAt } = await this.issuer.issueServiceToken({
      domainId: row.domainId,
      subject: principalOf(row),
      bindings: [{ role: "WORKSPACE_OWNER", workspace_id: row.workspaceId }],
      workspaceIds: [row.workspaceId],
    });
    return { row, token, expiresAt };
  }

  async revoke(access: Access, serviceIdentityId: string): Promise<ServiceIdentityRow> {
    if (!serviceIdentityId) throw missingParameter("service_identity_id");
    validId(serviceIdentityId, "service_identity_id");
    const current = await this.identities.get(access.domainId, serviceIdentityId);
    if (!current || !access.canRead(current.workspaceId)) throw notFound("Service identity not found", { service_identity_id: serviceIdentityId });
    if (!access.isOwnerOf(current.workspaceId)) throw permissionDenied("Revoking a service identity needs WORKSPACE_OWNER of its workspace", { workspace_id: current.workspaceId });
    const row = await this.identities.revoke(access.domainId, serviceIdentityId);
    if (!row) throw notFound("Service identity not found", { service_identity_id: serviceIdentityId });
    return row;
  }

  /** Whether a service token's identity may still act (identity re-checks its own tokens on every call). */
  async active(domainId: string, serviceIdentityId: string): Promise<ServiceIdentityRow | undefined> {
    const row = await this.identities.get(domainId, serviceIdentityId);
    return row && row.state === "ENABLED" ? row : undefined;
  }
}
