import type { JsonObject } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { CloudServiceTypeRow } from "../db/schema";

/** The wire shape of a type (Create/Get responses and List results share it). */
export function toMessage(row: CloudServiceTypeRow) {
  return {
    cloudServiceTypeId: row.cloudServiceTypeId,
    key: row.key,
    name: row.name,
    group: row.group,
    provider: row.provider,
    isBuiltin: row.isBuiltin,
    metadata: row.metadata,
    tags: row.tags,
    domainId: row.domainId,
    createdAt: timestampFromDate(row.createdAt),
    updatedAt: timestampFromDate(row.updatedAt),
  };
}

/** List rows come back as query-language projections keyed by field name. */
export function fromListRow(row: Record<string, unknown>) {
  const at = (value: unknown) => (value instanceof Date ? timestampFromDate(value) : undefined);
  return {
    cloudServiceTypeId: row.cloud_service_type_id as string | undefined,
    key: row.key as string | undefined,
    name: row.name as string | undefined,
    group: row.group as string | undefined,
    provider: row.provider as string | undefined,
    isBuiltin: row.is_builtin as boolean | undefined,
    metadata: row.metadata as JsonObject | undefined,
    tags: row.tags as Record<string, string> | undefined,
    domainId: row.domain_id as string | undefined,
    createdAt: at(row.created_at),
    updatedAt: at(row.updated_at),
  };
}
