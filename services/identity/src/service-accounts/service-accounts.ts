import type { JsonObject } from "@bufbuild/protobuf";
import { invalidParameter, notFound, permissionDenied } from "@cloudforet/errors";
import { mergeTags, validateTags, type QueryInput } from "@cloudforet/query";
import type { Access } from "../access/access";
import type { ServiceAccountRow } from "../db/schema";
import { entityId, required, validName } from "../fields/field-rules";
import type { ProjectRules } from "../projects/projects";
import type { SecretRepository } from "../secrets/repository";
import { assertWritable, type WorkspaceRules } from "../workspaces/workspaces";
import type { ServiceAccountRepository } from "./repository";

const providerPattern = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const MAX_DATA_BYTES = 64 * 1024;

export interface CreateServiceAccountInput {
  serviceAccountId: string;
  name: string;
  provider: string;
  data?: JsonObject;
  tags: Record<string, string>;
  projectId: string;
  workspaceId: string;
  secretId: string;
}

export interface UpdateServiceAccountInput {
  serviceAccountId: string;
  name?: string;
  data?: JsonObject;
  tags: Record<string, string>;
  removeTags: string[];
  projectId?: string;
  secretId?: string;
}

/**
 * Provider accounts. Any role on the workspace writes them (they are resources); an account of a
 * workspace the caller cannot see answers NOT_FOUND. Project and secret must lie in its workspace.
 */
export class ServiceAccountRules {
  constructor(
    private readonly accounts: ServiceAccountRepository,
    private readonly workspaces: WorkspaceRules,
    private readonly projects: ProjectRules,
    private readonly secrets: SecretRepository,
  ) {}

  async create(access: Access, input: CreateServiceAccountInput): Promise<ServiceAccountRow> {
    const serviceAccountId = entityId(input.serviceAccountId, "service_account_id", "sa");
    const name = validName(input.name);
    const provider = validProvider(input.provider);
    const data = validData(input.data) ?? {};
    const tags = validateTags(input.tags);
    const workspace = await this.workspaces.existing(access.domainId, input.workspaceId);
    requireWriter(access, workspace.workspaceId);
    assertWritable(workspace);
    return this.accounts.create({
      domainId: access.domainId,
      serviceAccountId,
      name,
      provider,
      data,
      tags,
      workspaceId: workspace.workspaceId,
      projectId: await this.project(access.domainId, input.projectId, workspace.workspaceId),
      secretId: await this.secret(access.domainId, input.secretId, workspace.workspaceId),
    });
  }

  async get(access: Access, serviceAccountId: string): Promise<ServiceAccountRow> {
    required(serviceAccountId, "service_account_id");
    const row = await this.accounts.get(access.domainId, serviceAccountId);
    if (!row || !access.canRead(row.workspaceId)) throw notFound("Service account not found", { service_account_id: serviceAccountId });
    return row;
  }

  list(access: Access, query: QueryInput) {
    return this.accounts.list(access.readScope(), query);
  }

  async update(access: Access, input: UpdateServiceAccountInput): Promise<ServiceAccountRow> {
    const current = await this.get(access, input.serviceAccountId);
    requireWriter(access, current.workspaceId);
    assertWritable(await this.workspaces.existing(access.domainId, current.workspaceId));
    const name = input.name === undefined ? undefined : validName(input.name);
    const data = validData(input.data);
    validateTags(input.tags);
    const projectId = input.projectId === undefined ? undefined : await this.project(access.domainId, input.projectId, current.workspaceId);
    const secretId = input.secretId === undefined ? undefined : await this.secret(access.domainId, input.secretId, current.workspaceId);
    const row = await this.accounts.update(access.domainId, current.serviceAccountId, {
      name,
      data,
      tags: (tags) => mergeTags(tags, input.tags, input.removeTags),
      projectId,
      secretId,
    });
    if (!row) throw notFound("Service account not found", { service_account_id: input.serviceAccountId });
    return row;
  }

  async delete(access: Access, serviceAccountId: string): Promise<void> {
    const current = await this.get(access, serviceAccountId);
    requireWriter(access, current.workspaceId);
    assertWritable(await this.workspaces.existing(access.domainId, current.workspaceId));
    if (!(await this.accounts.delete(access.domainId, serviceAccountId))) throw notFound("Service account not found", { service_account_id: serviceAccountId });
  }

  private async project(domainId: string, projectId: string, workspaceId: string): Promise<string> {
    if (!projectId) return "";
    if (!(await this.projects.inWorkspace(domainId, projectId, workspaceId))) {
      throw invalidParameter("Project not found in the workspace", { parameter: "project_id", value: projectId });
    }
    return projectId;
  }

  private async secret(domainId: string, secretId: string, workspaceId: string): Promise<string> {
    if (!secretId) return "";
    const secret = await this.secrets.get(domainId, secretId);
    if (!secret || secret.workspaceId !== workspaceId) {
      throw invalidParameter("Secret not found in the workspace", { parameter: "secret_id", value: secretId });
    }
    return secretId;
  }
}

function requireWriter(access: Access, workspaceId: string): void {
  if (!access.canWriteResources(workspaceId)) {
    throw permissionDenied("Writing service accounts needs a role on the workspace", { workspace_id: workspaceId });
  }
}

function validProvider(provider: string): string {
  required(provider, "provider");
  if (!providerPattern.test(provider)) throw invalidParameter("provider must be lower-case letters, digits, _ or -", { parameter: "provider", value: provider.slice(0, 80) });
  return provider;
}

function validData(data: JsonObject | undefined): JsonObject | undefined {
  if (data && Buffer.byteLength(JSON.stringify(data)) > MAX_DATA_BYTES) {
    throw invalidParameter(`data must be at most ${MAX_DATA_BYTES} bytes of JSON`, { parameter: "data" });
  }
  return data;
}
