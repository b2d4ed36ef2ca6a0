import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceAccountRow } from "../db/schema";
import { listRow } from "../messages/list-rows";

export function toMessage(row: ServiceAccountRow) {
  return {
    serviceAccountId: row.serviceAccountId,
    name: row.name,
    provider: row.provider,
    data: row.data,
    tags: row.tags,
    projectId: row.projectId,
    workspaceId: row.workspaceId,
    secretId: row.secretId,
    domainId: row.domainId,
    createdAt: timestampFromDate(row.createdAt),
    updatedAt: timestampFromDate(row.updatedAt),
  };
}

export function fromListRow(raw: Record<string, unknown>) {
  const row = listRow(raw);
  return {
    serviceAccountId: row.text("service_account_id"),
    name: row.text("name"),
    provider: row.text("provider"),
    data: row.json("data"),
    tags: row.tags("tags"),
    projectId: row.text("project_id"),
    workspaceId: row.text("workspace_id"),
    secretId: row.text("secret_id"),
    domainId: row.text("domain_id"),
    createdAt: row.time("created_at"),
    updatedAt: row.time("updated_at"),
  };
}
