import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ApiKey_State } from "@cloudforet/proto/cloudforet/identity/v1/api_key_pb";
import type { ApiKeyRow } from "../db/schema";
import { listRow, optionalTime } from "../messages/list-rows";

/** Never the key itself: only Create's response carries it, once. */
export function toMessage(row: ApiKeyRow) {
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

export function fromListRow(raw: Record<string, unknown>) {
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

/** Create's answer: the only one that carries the key itself, once. */
export function createdMessage(row: ApiKeyRow, key: string) {
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
}
