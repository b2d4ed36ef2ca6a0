import { notFound, permissionDenied } from "@cloudforet/errors";
import type { QueryInput } from "@cloudforet/query";
import type { Access } from "../access/access";
import type { ApiKeyRow } from "../db/schema";
import { futureInstant, required, validName } from "../fields/field-rules";
import type { UserRepository } from "../users/repository";
import type { ApiKeyRepository } from "./repository";

/** Users manage their own keys; DOMAIN_ADMIN anyone's in the domain. Others' keys answer NOT_FOUND. */
export class ApiKeyRules {
  constructor(
    private readonly keys: ApiKeyRepository,
    private readonly users: UserRepository,
  ) {}

  async create(access: Access, input: { userId: string; name: string; expiresAt?: Date }): Promise<{ row: ApiKeyRow; key: string }> {
    const owner = input.userId || access.userId;
    if (owner !== access.userId && !access.isAdmin) {
      throw permissionDenied("Only DOMAIN_ADMIN may create keys for other users", { user_id: owner });
    }
    const name = validName(input.name, "name", false);
    const expiresAt = futureInstant(input.expiresAt, "expires_at");
    if (!(await this.users.get(access.domainId, owner))) throw notFound("User not found", { user_id: owner });
    return this.keys.create({ domainId: access.domainId, userId: owner, name, expiresAt });
  }

  async get(access: Access, apiKeyId: string): Promise<ApiKeyRow> {
    required(apiKeyId, "api_key_id");
    const row = await this.keys.get(access.domainId, apiKeyId);
    if (!row || (!access.isAdmin && row.userId !== access.userId)) throw notFound("API key not found", { api_key_id: apiKeyId });
    return row;
  }

  list(access: Access, query: QueryInput) {
    return this.keys.list(access.domainId, query, access.isAdmin ? undefined : access.userId);
  }

  async revoke(access: Access, apiKeyId: string): Promise<ApiKeyRow> {
    await this.get(access, apiKeyId);
    const row = await this.keys.revoke(access.domainId, apiKeyId);
    if (!row) throw notFound("API key not found", { api_key_id: apiKeyId });
    return row;
  }

  async delete(access: Access, apiKeyId: string): Promise<void> {
    await this.get(access, apiKeyId);
    if (!(await this.keys.delete(access.domainId, apiKeyId))) throw notFound("API key not found", { api_key_id: apiKeyId });
  }
}
