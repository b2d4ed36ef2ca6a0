import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { DataSourceRow } from "../db/schema";

/** The wire shape of a data source (Create/Get responses and List results). */
export function toMessage(row: Partial<DataSourceRow>) {
  return {
    dataSourceId: row.dataSourceId,
    name: row.name,
    provider: row.provider,
    tags: row.tags,
    domainId: row.domainId,
    workspaceId: row.workspaceId,
    createdAt: row.createdAt ? timestampFromDate(row.createdAt) : undefined,
    updatedAt: row.updatedAt ? timestampFromDate(row.updatedAt) : undefined,
  };
}

/** List rows come back keyed by query field name. */
export function fromListRow(row: Record<string, unknown>) {
  return toMessage({
    dataSourceId: row.data_source_id as string | undefined,
    name: row.name as string | undefined,
    provider: row.provider as string | undefined,
    tags: row.tags as Record<string, string> | undefined,
    domainId: row.domain_id as string | undefined,
    workspaceId: row.workspace_id as string | undefined,
    createdAt: row.created_at as Date | undefined,
    updatedAt: row.updated_at as Date | undefined,
  });
}
