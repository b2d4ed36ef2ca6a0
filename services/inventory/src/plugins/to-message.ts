import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Plugin_Kind, Plugin_RoutingMode, PluginEndpoint_Health } from "@cloudforet/proto/cloudforet/inventory/v1/plugin_pb";
import type { PluginAliasRow, PluginEndpointRow, PluginRow } from "../db/schema";
import type { PluginDetail, VersionWithEndpoints } from "./repository";
import type { Resolution } from "./plugin-router";

const at = (value: unknown) => (value instanceof Date ? timestampFromDate(value) : undefined);

export function endpointMessage(row: PluginEndpointRow) {
  return { url: row.url, weight: row.weight, health: PluginEndpoint_Health[row.health], lastError: row.lastError, checkedAt: at(row.checkedAt) };
}

export function versionMessage(row: VersionWithEndpoints) {
  return { pluginId: row.pluginId, version: row.version, endpoints: row.endpoints.map(endpointMessage), createdAt: at(row.createdAt) };
}

export function aliasMessage(row: PluginAliasRow) {
  return { pluginId: row.pluginId, name: row.name, version: row.version, domainId: row.domainId, createdAt: at(row.createdAt), updatedAt: at(row.updatedAt) };
}

export function pluginMessage(row: PluginRow | PluginDetail) {
  return {
    pluginId: row.pluginId,
    name: row.name,
    kind: Plugin_Kind[row.kind],
    routingMode: Plugin_RoutingMode[row.routingMode],
    versions: "versions" in row ? row.versions.map(versionMessage) : [],
    aliases: "aliases" in row ? row.aliases.map(aliasMessage) : [],
    tags: row.tags,
    domainId: row.domainId,
    createdAt: at(row.createdAt),
    updatedAt: at(row.updatedAt),
  };
}

/** A List result (the query language's projection; absent fields stay unset). */
export function pluginListMessage(row: Record<string, unknown>) {
  return {
    pluginId: row.plugin_id as string | undefined,
    name: row.name as string | undefined,
    kind: row.kind === undefined ? undefined : Plugin_Kind[row.kind as PluginRow["kind"]],
    routingMode: row.routing_mode === undefined ? undefined : Plugin_RoutingMode[row.routing_mode as PluginRow["routingMode"]],
    tags: row.tags as Record<string, string> | undefined,
    domainId: row.domain_id as string | undefined,
    createdAt: at(row.created_at),
    updatedAt: at(row.updated_at),
  };
}

export function aliasListMessage(row: Record<string, unknown>) {
  return {
    pluginId: row.plugin_id as string | undefined,
    name: row.name as string | undefined,
    version: row.version as string | undefined,
    domainId: row.domain_id as string | undefined,
    createdAt: at(row.created_at),
    updatedAt: at(row.updated_at),
  };
}

export function resolutionMessage(resolution: Resolution) {
  return {
    pluginId: resolution.plugin.pluginId,
    version: resolution.version,
    alias: resolution.alias,
    routingMode: Plugin_RoutingMode[resolution.mode],
    endpoint: resolution.candidates[0] ? endpointMessage(resolution.candidates[0]) : undefined,
    candidates: resolution.candidates.map(endpointMessage),
    explanation: resolution.explanation,
  };
}
