import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import type { UpsertItem } from "./resource-sink";

export const CLOUD_SERVICE = "cloud_service.CloudService";
export const CLOUD_SERVICE_TYPE = "cloud_service.CloudServiceType";

/** Where a collected resource came from: inventory's own facts, which the plugin cannot override. */
export interface Provenance {
  collectorId: string;
  jobTaskId: string;
  serviceAccountId: string;
  provider: string;
  workspaceId: string;
}

export class ItemRejected extends Error {}

const text = (resource: JsonObject, key: string): string => {
  const value = resource[key];
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  throw new ItemRejected(`${key} must be a string`);
};

const object = (resource: JsonObject, key: string): JsonObject => {
  const value = resource[key];
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) throw new ItemRejected(`${key} must be an object`);
  return value as JsonObject;
};

/**
 * A plugin's cloud service (the fields of CloudServiceServiceUpsertRequest, snake_case) as an
 * upsert item: account defaults to the task's service account, provider to the collector's, and
 * the item carries the collector, job task and workspace of the collection.
 */
export function toUpsertItem(resource: JsonObject, matchRules: JsonObject | undefined, from: Provenance): UpsertItem {
  const tags: Record<string, string> = {};
  for (const [key, value] of Object.entries(object(resource, "tags"))) {
    if (typeof value === "object" && value !== null) throw new ItemRejected(`tags.${key} must be a string`);
    tags[key] = value === null ? "" : String(value);
  }
  const reference = object(resource, "reference");
  return {
    cloudServiceType: text(resource, "cloud_service_type"),
    cloudServiceGroup: text(resource, "cloud_service_group"),
    cloudServiceName: text(resource, "cloud_service_name") || text(resource, "name"),
    provider: text(resource, "provider") || from.provider,
    account: text(resource, "account") || from.serviceAccountId,
    data: object(resource, "data"),
    tags,
    reference: { resourceId: text(reference, "resource_id"), externalLink: text(reference, "external_link") },
    projectId: text(resource, "project_id"),
    workspaceId: from.workspaceId,
    collectorId: from.collectorId,
    jobTaskId: from.jobTaskId,
    matchRules: toMatchRules(matchRules),
  };
}

/** CloudForet's `{"1": [keys], "2": [keys]}` as ordered rules; anything else is refused. */
export function toMatchRules(rules: JsonObject | undefined): { keys: string[] }[] {
  if (!rules) return [];
  const ordered = Object.entries(rules).sort(([a], [b]) => Number(a) - Number(b) || a.localeCompare(b));
  return ordered.map(([, keys]: [string, JsonValue]) => {
    if (!Array.isArray(keys) || !keys.every((k) => typeof k === "string")) throw new ItemRejected("match_rules must map rule numbers to lists of keys");
    return { keys: keys as string[] };
  });
}

/** A short name for an item in error lines. */
export function describeItem(resource: JsonObject | undefined): string {
  if (!resource) return "item";
  const reference = resource.reference as JsonObject | undefined;
  const id = (reference && typeof reference === "object" && typeof reference.resource_id === "string" && reference.resource_id) || resource.cloud_service_name || resource.name;
  return typeof id === "string" && id ? `resource ${id.slice(0, 128)}` : "item";
}
