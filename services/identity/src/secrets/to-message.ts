import type { JsonObject } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { listRow, optionalTime } from "../messages/list-rows";
import type { SecretMetadata } from "./repository";

/** Metadata only: no response but GetData carries the value. */
export function toMessage(row: SecretMetadata) {
  return {
    secretId: row.secretId,
    name: row.name,
    tags: row.tags,
    workspaceId: row.workspaceId,
    serviceAccountId: row.serviceAccountId,
    expiresAt: optionalTime(row.expiresAt),
    domainId: row.domainId,
    createdAt: timestampFromDate(row.createdAt),
    updatedAt: timestampFromDate(row.updatedAt),
  };
}

export function fromListRow(raw: Record<string, unknown>) {
  const row = listRow(raw);
  return {
    secretId: row.text("secret_id"),
    name: row.text("name"),
    tags: row.tags("tags"),
    workspaceId: row.text("workspace_id"),
    serviceAccountId: row.text("service_account_id"),
    expiresAt: row.time("expires_at"),
    domainId: row.text("domain_id"),
    createdAt: row.time("created_at"),
    updatedAt: row.time("updated_at"),
  };
}

/** GetData's answer, exactly seed 000 "Fetch Secret": the one response that carries the value. */
export function secretDataMessage(row: SecretMetadata, data: JsonObject) {
  return {
    secretId: row.secretId,
    name: row.name,
    data,
    tags: row.tags,
    domainId: row.domainId,
    createdAt: timestampFromDate(row.createdAt),
    updatedAt: timestampFromDate(row.updatedAt),
  };
}
