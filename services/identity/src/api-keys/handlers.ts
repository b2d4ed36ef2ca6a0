import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { ApiKey_State, ApiKeyService } from "@cloudforet/proto/cloudforet/identity/v1/api_key_pb";
import { Access } from "../access/access";
import type { ApiKeyRow } from "../db/schema";
import { listRow, optionalDate, optionalTime } from "../list-rows";
import type { ApiKeyRules } from "./rules";

/** Never the key itself: only Create's response carries it, once. */
function toMessage(row: ApiKeyRow) {
  return {
    apiKeyId: row.apiKeyId,
    name: row.name,
    userId: row.userId,
    state: ApiKey_State[row.state],
    keyPrefix: row.keyPrefix,
    expiresAt: optionalTime(row.expiresAt),
    lastUsedAt: optionalTime(row.lastUsedAt),
    revokedAt: optionalTime(row.revokedAt),
    domainId: row.domainId,
    createdAt: timestampFromDate(row.createdAt),
    updatedAt: timestampFromDate(row.updatedAt),
  };
}

function fromListRow(raw: Record<string, unknown>) {
  const row = listRow(raw);
  return {
    apiKeyId: row.text("api_key_id"),
    name: row.text("name"),
    userId: row.text("user_id"),
    state: row.enumValue("state", ApiKey_State),
    keyPrefix: row.text("key_prefix"),
    expiresAt: row.time("expires_at"),
    lastUsedAt: row.time("last_used_at"),
    revokedAt: row.time("revoked_at"),
    domainId: row.text("domain_id"),
    createdAt: row.time("created_at"),
    updatedAt: row.time("updated_at"),
  };
}

export function apiKeyHandlers(rules: ApiKeyRules): ServiceImpl<typeof ApiKeyService> {
  return {
    async create(req, ctx) {
      const { row, key } = await rules.create(Access.of(ctx), { userId: req.userId, name: req.name, expiresAt: optionalDate(req.expiresAt) });
      return {
        apiKeyId: row.apiKeyId,
        apiKey: key,
        name: row.name,
        userId: row.userId,
        state: ApiKey_State[row.state],
        keyPrefix: row.keyPrefix,
        expiresAt: optionalTime(row.expiresAt),
        domainId: row.domainId,
        createdAt: timestampFromDate(row.createdAt),
        updatedAt: timestampFromDate(row.updatedAt),
      };
    },
    async get(req, ctx) {
      return toMessage(await rules.get(Access.of(ctx), req.apiKeyId));
    },
    async list(req, ctx) {
      const { results, total_count } = await rules.list(Access.of(ctx), req.query);
      return { results: results.map(fromListRow), totalCount: total_count };
    },
    async revoke(req, ctx) {
      return toMessage(await rules.revoke(Access.of(ctx), req.apiKeyId));
    },
    async delete(req, ctx) {
      await rules.delete(Access.of(ctx), req.apiKeyId);
      return {};
    },
  };
}
