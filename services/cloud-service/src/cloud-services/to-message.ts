import type { JsonObject } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { CloudServiceRow, ResourceReference } from "../db/schema";

const at = (value: unknown) => {
  if (value instanceof Date) return timestampFromDate(value);
  if (typeof value === "string" && value) return timestampFromDate(new Date(value));
  return undefined;
};

function referenceMessage(reference: Partial<ResourceReference> | undefined) {
  if (!reference || typeof reference !== "object") return undefined;
  return { resourceId: String(reference.resource_id ?? ""), externalLink: String(reference.external_link ?? "") };
}

/** Every field of a resource, as Get, Update and Upsert answer it. */
export function cloudServiceMessage(row: CloudServiceRow) {
  return {
    cloudServiceId: row.cloudServiceId,
    name: row.name,
    cloudServiceType: row.cloudServiceType,
    cloudServiceGroup: row.cloudServiceGroup,
    provider: row.provider,
    account: row.account,
    state: row.state,
    data: row.data,
    tags: row.tags,
    reference: referenceMessage(row.reference),
    projectId: row.projectId,
    workspaceId: row.workspaceId,
    domainId: row.domainId,
    collectorId: row.collectorId,
    jobTaskId: row.jobTaskId,
    lastCollectedAt: at(row.lastCollectedAt),
    createdAt: at(row.createdAt),
    updatedAt: at(row.updatedAt),
    deletedAt: at(row.deletedAt),
  };
}

/** Exactly the fields of seed 000's Create response. */
export function createdMessage(row: CloudServiceRow) {
  return {
    cloudServiceId: row.cloudServiceId,
    name: row.name,
    cloudServiceType: row.cloudServiceType,
    cloudServiceGroup: row.cloudServiceGroup,
    provider: row.provider,
    account: row.account,
    state: row.state,
    createdAt: at(row.createdAt),
    updatedAt: at(row.updatedAt),
  };
}

/** A List result: the query language's projection, keyed by field name (absent fields stay unset). */
export function listResultMessage(row: Record<string, unknown>) {
  return {
    cloudServiceId: row.cloud_service_id as string | undefined,
    name: row.name as string | undefined,
    cloudServiceType: row.cloud_service_type as string | undefined,
    cloudServiceGroup: row.cloud_service_group as string | undefined,
    provider: row.provider as string | undefined,
    account: row.account as string | undefined,
    state: row.state as string | undefined,
    data: row.data as JsonObject | undefined,
    tags: row.tags as Record<string, string> | undefined,
    reference: referenceMessage(row.reference as Partial<ResourceReference> | undefined),
    projectId: row.project_id as string | undefined,
    workspaceId: row.workspace_id as string | undefined,
    domainId: row.domain_id as string | undefined,
    collectorId: row.collector_id as string | undefined,
    jobTaskId: row.job_task_id as string | undefined,
    lastCollectedAt: at(row.last_collected_at),
    createdAt: at(row.created_at),
    updatedAt: at(row.updated_at),
    deletedAt: at(row.deleted_at),
  };
}
