import type { CloudService } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_pb";
import { formatTime } from "../../lib/format";

export interface Column {
  id: string;
  label: string;
  /** The query language's key to sort by. */
  sortKey: string;
  value(cs: CloudService): string;
}

export const COLUMNS: Column[] = [
  { id: "name", label: "Name", sortKey: "name", value: (cs) => cs.name },
  { id: "type", label: "Type", sortKey: "cloud_service_type", value: (cs) => cs.cloudServiceType },
  { id: "group", label: "Group", sortKey: "cloud_service_group", value: (cs) => cs.cloudServiceGroup },
  { id: "provider", label: "Provider", sortKey: "provider", value: (cs) => cs.provider },
  { id: "state", label: "State", sortKey: "state", value: (cs) => cs.state },
  { id: "account", label: "Account", sortKey: "account", value: (cs) => cs.account },
  { id: "workspace", label: "Workspace", sortKey: "workspace_id", value: (cs) => cs.workspaceId },
  { id: "project", label: "Project", sortKey: "project_id", value: (cs) => cs.projectId },
  { id: "collected", label: "Last collected", sortKey: "last_collected_at", value: (cs) => formatTime(cs.lastCollectedAt) },
  { id: "updated", label: "Updated", sortKey: "updated_at", value: (cs) => formatTime(cs.updatedAt) },
];

export const DEFAULT_COLUMNS = ["name", "type", "provider", "state", "account", "updated"];

export const FILTER_KEYS = ["name", "cloud_service_type", "cloud_service_group", "provider", "state", "account", "workspace_id", "project_id", "collector_id", "tags.", "data."];
