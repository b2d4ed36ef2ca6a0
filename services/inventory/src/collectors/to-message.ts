import type { JsonObject } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { CollectorRow, CollectorSchedule } from "../db/schema";

const at = (value: unknown) => (value instanceof Date ? timestampFromDate(value) : undefined);

/** Every field of a collector (Create/Get/Update responses share it). */
export function collectorMessage(row: CollectorRow) {
  return {
    collectorId: row.collectorId,
    name: row.name,
    provider: row.provider,
    pluginInfo: { endpoint: row.pluginEndpoint, options: row.pluginOptions, metadata: row.pluginMetadata },
    schedule: row.schedule ?? undefined,
    tags: row.tags,
    lastCollectedAt: at(row.lastCollectedAt),
    workspaceId: row.workspaceId,
    domainId: row.domainId,
    createdAt: at(row.createdAt),
    updatedAt: at(row.updatedAt),
  };
}

/** A List result (the query language's projection; absent fields stay unset). */
export function collectorListMessage(row: Record<string, unknown>) {
  const hasPlugin = "plugin_endpoint" in row || "plugin_options" in row || "plugin_metadata" in row;
  return {
    collectorId: row.collector_id as string | undefined,
    name: row.name as string | undefined,
    provider: row.provider as string | undefined,
    pluginInfo: hasPlugin
      ? {
          endpoint: (row.plugin_endpoint as string | undefined) ?? "",
          options: row.plugin_options as JsonObject | undefined,
          metadata: row.plugin_metadata as JsonObject | undefined,
        }
      : undefined,
    schedule: (row.schedule as CollectorSchedule | null | undefined) ?? undefined,
    tags: row.tags as Record<string, string> | undefined,
    lastCollectedAt: at(row.last_collected_at),
    workspaceId: row.workspace_id as string | undefined,
    domainId: row.domain_id as string | undefined,
    createdAt: at(row.created_at),
    updatedAt: at(row.updated_at),
  };
}
