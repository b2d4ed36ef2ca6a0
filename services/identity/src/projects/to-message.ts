import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ProjectRow } from "../db/schema";
import { listRow } from "../messages/list-rows";

export function toMessage(row: ProjectRow) {
  return {
    projectId: row.projectId,
    name: row.name,
    workspaceId: row.workspaceId,
    tags: row.tags,
    domainId: row.domainId,
    createdAt: timestampFromDate(row.createdAt),
    updatedAt: timestampFromDate(row.updatedAt),
  };
}

export function fromListRow(raw: Record<string, unknown>) {
  const row = listRow(raw);
  return {
    projectId: row.text("project_id"),
    name: row.text("name"),
    workspaceId: row.text("workspace_id"),
    tags: row.tags("tags"),
    domainId: row.text("domain_id"),
    createdAt: row.time("created_at"),
    updatedAt: row.time("updated_at"),
  };
}
