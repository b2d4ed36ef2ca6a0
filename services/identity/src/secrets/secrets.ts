import type { JsonObject } from "@bufbuild/protobuf";
import { invalidParameter, missingParameter, notFound, permissionDenied } from "@cloudforet/errors";
import { validateTags, type QueryInput } from "@cloudforet/query";
import type { Access } from "../access/access";
import { futureInstant, required } from "../fields/field-rules";
import type { ServiceAccountRepository } from "../service-accounts/repository";
import { assertWritable, type WorkspaceRules } from "../workspaces/workspaces";
import type { SecretMetadata, SecretRepository } from "./repository";

const namePattern = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const MAX_DATA_BYTES = 64 * 1024;

export interface CreateSecretInput {
  name: string;
  data?: JsonObject;
  tags: Record<string, string>;
  workspaceId: string;
  serviceAccountId: string;
  expiresAt?: Date;
}

export interface SetSecretInput {
  name: string;
  data?: JsonObject;
  tags: Record<string, string>;
  workspaceId: string;
  serviceAccountId?: string;
  expiresAt?: Date;
}

/**
 * Secrets are scoped to the caller's domain (another domain's answer NOT_FOUND) and workspaces
 * (another workspace's answer PERMISSION_DENIED, seed 000). Any role on the workspace reads them and
 * writes them; only GetData ever returns the value.
 */
export class SecretRules {
  constructor(
    private readonly secrets: SecretRepository,
    private readonly workspaces: WorkspaceRules,
    private readonly serviceAccounts: ServiceAccountRepository,
  ) {}

  async create(access: Access, input: CreateSecretInput): Promise<SecretMetadata> {
    const name = validSecretName(input.name);
    const data = validData(input.data);
    const tags = validateTags(input.tags);
    const expiresAt = futureInstant(input.expiresAt, "expires_at");
    const workspaceId = await this.writableWorkspace(access, input.workspaceId);
    const serviceAccountId = await this.serviceAccount(access.domainId, input.serviceAccountId, workspaceId);
    return this.secrets.create({ domainId: access.domainId, workspaceId, name, data, tags, serviceAccountId, expiresAt });
  }

  async get(access: Access, secretId: string): Promise<SecretMetadata> {
    required(secretId, "secret_id");
    const row = await this.secrets.get(access.domainId, secretId);
    if (!row) throw notFound("Secret not found", { secret_id: secretId });
    if (!access.canRead(row.workspaceId)) throw permissionDenied("Access denied for secret in different workspace", { secret_id: secretId });
    return row;
  }

  /** Seed 000 "Fetch Secret": not found, another workspace, expired — in that order. */
  async getData(access: Access, input: { secretId: string; domainId: string }, now = new Date()): Promise<{ row: SecretMetadata; data: JsonObject }> {
    if (input.domainId && input.domainId !== access.domainId) {
      throw permissionDenied("Access denied for secret in a different domain", { secret_id: input.secretId, domain_id: input.domainId });
    }
    const row = await this.get(access, input.secretId);
    if (row.expiresAt && row.expiresAt.getTime() <= now.getTime()) {
      throw invalidParameter("Secret has expired", { secret_id: row.secretId });
    }
    const data = await this.secrets.data(access.domainId, row.secretId);
    if (!data) throw notFound("Secret not found", { secret_id: row.secretId });
    return { row, data };
  }

  /** Idempotent upsert by name in the workspace (seed 001); the value is never echoed. */
  async set(access: Access, input: SetSecretInput): Promise<{ row: SecretMetadata; created: boolean }> {
    const name = validSecretName(input.name);
    const data = validData(input.data);
    const tags = validateTags(input.tags);
    const expiresAt = futureInstant(input.expiresAt, "expires_at") ?? undefined;
    const workspaceId = await this.writableWorkspace(access, input.workspaceId || onlyWorkspace(access));
    const serviceAccountId =
      input.serviceAccountId === undefined ? undefined : await this.serviceAccount(access.domainId, input.serviceAccountId, workspaceId);
    return this.secrets.set({ domainId: access.domainId, workspaceId, name, data, tags, serviceAccountId, expiresAt });
  }

  list(access: Access, query: QueryInput) {
    return this.secrets.list(access.readScope(), query);
  }

  async delete(access: Access, secretId: string): Promise<void> {
    const row = await this.get(access, secretId);
    if (!access.canWriteResources(row.workspaceId)) throw permissionDenied("Access denied for secret in different workspace", { secret_id: secretId });
    assertWritable(await this.workspaces.existing(access.domainId, row.workspaceId));
    if (!(await this.secrets.delete(access.domainId, secretId))) throw notFound("Secret not found", { secret_id: secretId });
  }

  private async writableWorkspace(access: Access, workspaceId: string): Promise<string> {
    const workspace = await this.workspaces.existing(access.domainId, workspaceId);
    if (!access.canWriteResources(workspace.workspaceId)) {
      throw permissionDenied("Access denied for secret in different workspace", { workspace_id: workspace.workspaceId });
    }
    assertWritable(workspace);
    return workspace.workspaceId;
  }

  /** "" stays unlinked; otherwise a service account of the same workspace. */
  private async serviceAccount(domainId: string, serviceAccountId: string, workspaceId: string): Promise<string> {
    if (!serviceAccountId) return "";
    const account = await this.serviceAccounts.get(domainId, serviceAccountId);
    if (!account || account.workspaceId !== workspaceId) {
      throw invalidParameter("Service account not found in the workspace", { parameter: "service_account_id", value: serviceAccountId });
    }
    return account.serviceAccountId;
  }
}

/** Set without workspace_id: the caller's only workspace, else the caller must say which. */
function onlyWorkspace(access: Access): string {
  const ids = access.workspaceIds;
  if (ids.length === 1) return ids[0];
  throw invalidParameter(ids.length === 0 ? "workspace_id is required: the caller has no workspace" : "workspace_id is required: the caller has several workspaces", {
    parameter: "workspace_id",
  });
}

function validSecretName(name: string): string {
  required(name, "name");
  if (!namePattern.test(name)) {
    throw invalidParameter("name must be 1-128 letters, digits, '_', '.' or '-', starting with a letter, digit or '_'", { parameter: "name", value: name.slice(0, 140) });
  }
  return name;
}

function validData(data: JsonObject | undefined): JsonObject {
  if (!data) throw missingParameter("data");
  if (Buffer.byteLength(JSON.stringify(data)) > MAX_DATA_BYTES) throw invalidParameter(`data must be at most ${MAX_DATA_BYTES} bytes of JSON`, { parameter: "data" });
  return data;
}
