import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Workspace_State } from "@cloudforet/proto/cloudforet/identity/v1/workspace_pb";
import type { WorkspaceRow } from "../db/schema";
import { listRow } from "../messages/list-rows";

export function toMessage(row: WorkspaceRow) {
  return {
    workspaceId: row.workspaceId,
    name: row.name,
    state: Workspace_State[row.state],
    tags: row.tags,
    domainId: row.domainId,
    createdAt: timestampFromDate(row.createdAt),
    updatedAt: timestampFromDate(row.updatedAt),
  };
}

export function fromListRow(raw: Record<string, unknown>) {
  const row = listRow(raw);
  return {
    workspaceId: row.text("workspace_id"),
    name: row.text("name"),
    state: row.enumValue("state", Workspace_State),
    tags: row.tags("tags"),
    domainId: row.text("domain_id"),
    createdAt: row.time("created_at"),
    updatedAt: row.time("updated_at"),
  };
}
