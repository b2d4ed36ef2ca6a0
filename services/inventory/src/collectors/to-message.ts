import type { JsonObject } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { CollectorRow, CollectorSchedule } from "../db/schema";

const at = (value: unknown) => (value instanceof Date ? timestampFromDate(value) : undefined);

/** The schedule as stored, with when it fires next (unset while disabled). */
function scheduleMessage(schedule: CollectorSchedule | null | undefined, nextFireAt: unknown) {
  if (!schedule) return undefined;
  return { enabled: schedule.enabled, cron: schedule.cron, timezone: schedule.timezone, intervalSeconds: schedule.intervalSeconds ?? 0, nextFireAt: at(nextFireAt) };
}

/** Every field of a collector (Create/Get/Update responses share it). */
export function collectorMessage(row: CollectorRow) {
  return {
    collectorId: row.collectorId,
    name: row.name,
    provider: row.provider,
    pluginInfo: { endpoint: row.pluginEndpoint, options: row.pluginOptions, metadata: row.pluginMetadata, pluginId: row.pluginId, pluginVersion: row.pluginVersion },
    schedule: scheduleMessage(row.schedule, row.nextFireAt),
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
  const hasPlugin = "plugin_endpoint" in row || "plugin_options" in row || "plugin_metadata" in row || "plugin_id" in row || "plugin_version" in row;
  return {
    collectorId: row.collector_id as string | undefined,
    name: row.name as string | undefined,
    provider: row.provider as string | undefined,
    pluginInfo: hasPlugin
      ? {
          endpoint: (row.plugin_endpoint as string | undefined) ?? "",
          options: row.plugin_options as JsonObject | undefined,
          metadata: row.plugin_metadata as JsonObject | undefined,
          pluginId: (row.plugin_id as string | undefined) ?? "",
          pluginVersion: (row.plugin_version as string | undefined) ?? "",
        }
      : undefined,
    schedule: scheduleMessage(row.schedule as CollectorSchedule | null | undefined, row.next_fire_at),
    tags: row.tags as Record<string, string> | undefined,
    lastCollectedAt: at(row.last_collected_at),
    workspaceId: row.workspace_id as string | undefined,
    domainId: row.domain_id as string | undefined,
    createdAt: at(row.created_at),
    updatedAt: at(row.updated_at),
  };
}
