import { randomUUID } from "node:crypto";
import { ErrorCode, invalidParameter, permissionDenied, PlatformError } from "@cloudforet/errors";
import type { Logger } from "pino";
import type { TypeCatalog } from "../cloud-service-types/repository";
import type { ValidResource } from "./cloud-services";
import type { CollectionScope, MatchedResource, NewCollectedRow, UpsertValues } from "./collection-repository";
import type { ChangeAuthor } from "../change-history/history-sql";

/**
 * One upserted item on its way through ResourceWriter: the row it inserts or the values it gives
 * the resource it matched, where it may match, and the per-item errors it can end in.
 */

/** What happened to one upserted item. */
export type UpsertOutcome =
  | { ok: true; created: boolean; cloudServiceId: string }
  | { ok: false; error: PlatformError; resourceId: string };

/** A validated item on its way through a batch, with the workspace it ends up in. */
export interface PlannedItem {
  index: number;
  item: ValidResource;
  workspaceId: string;
}

export function defaultKey(provider: string, type: string, resourceId: string): string {
  return JSON.stringify([provider, type, resourceId]);
}

export function assertKnownType(catalog: TypeCatalog, item: ValidResource): void {
  if (!catalog.allows(item.cloudServiceType, item.provider)) {
    throw invalidParameter("Unknown cloud service type", { parameter: "cloud_service_type", value: item.cloudServiceType });
  }
}

export function newRow(domainId: string, item: ValidResource, workspaceId: string): NewCollectedRow {
  return {
    cloudServiceId: `cs-${randomUUID()}`,
    domainId,
    workspaceId,
    projectId: item.projectId,
    name: item.cloudServiceName,
    cloudServiceType: item.cloudServiceType,
    cloudServiceGroup: item.cloudServiceGroup,
    provider: item.provider,
    account: item.account,
    state: item.state,
    data: item.data,
    tags: item.tags,
    reference: item.reference,
    resourceId: item.reference.resource_id,
    collectorId: item.collectorId,
    jobTaskId: item.jobTaskId,
    collected: item.collectorId !== "" || item.jobTaskId !== "",
    author: changeAuthor(item),
  };
}

/** Who writes this item, for its change history. */
export function changeAuthor(item: ValidResource): ChangeAuthor {
  return { userId: item.userId ?? "", collectorId: item.collectorId, jobId: item.jobId ?? "", jobTaskId: item.jobTaskId, ruleChanges: item.ruleChanges ?? {} };
}

export function upsertValues(cloudServiceId: string, { item, workspaceId }: PlannedItem): UpsertValues {
  const hasReference = item.reference.resource_id !== "" || item.reference.external_link !== "";
  return {
    cloudServiceId,
    name: item.cloudServiceName,
    cloudServiceType: item.cloudServiceType,
    cloudServiceGroup: item.cloudServiceGroup,
    provider: item.provider,
    account: item.account,
    state: item.state,
    data: item.data,
    tags: item.tags,
    reference: hasReference ? item.reference : undefined,
    projectId: item.projectId,
    // Only an explicit project or workspace moves an existing resource.
    workspaceId: item.projectId || item.workspaceId ? workspaceId : "",
    collectorId: item.collectorId,
    jobTaskId: item.jobTaskId,
    author: changeAuthor(item),
  };
}

/**
 * Where a collector's item may match (finding 3: a plugin yielding another collector's resource id
 * took that resource over, moving it from its workspace into the collector's). An item written by a
 * collection (it carries a collector_id) matches only resources of the workspace it is written to
 * (or domain-level ones, which only a domain admin may write), whichever collector or person wrote them: a workspace's pull and push collectors of one
 * provider account keep updating the same resources (the Nutanix walkthrough relies on it), and
 * whoever may run a collector in a workspace may write its resources anyway. It never moves or
 * overwrites a resource of another workspace: matching there finds nothing, so the item creates a
 * new resource in its own workspace, unless that other resource is live under the same (provider,
 * type, resource_id), which only one live resource of a domain may hold; then the item is one
 * PERMISSION_DENIED item error and the other resource is left as it was. Inventory's pull collection
 * always names the collector's workspace. Upserts by people (no collector_id) keep matching across
 * their domain, within their write access.
 */
export function collectionScope({ item, workspaceId }: PlannedItem): CollectionScope | undefined {
  // A collection that names no workspace or project (a push collector writing as its caller) moves
  // nothing (upsertValues keeps the stored workspace) and matches within the caller's write access.
  return item.collectorId && (item.workspaceId || item.projectId) ? { workspaceId } : undefined;
}

export function isWithin(match: MatchedResource, within: CollectionScope): boolean {
  // A domain-level resource (no workspace; only a domain admin writes those) is taken into the
  // collection's workspace, as a push collector run by a domain admin leaves them for the pull one.
  return match.workspaceId === within.workspaceId || match.workspaceId === "";
}

export function outsideCollection(item: ValidResource): PlatformError {
  return permissionDenied("The matching resource belongs to another workspace; it was left unchanged", {
    resource_id: item.reference.resource_id || undefined,
  });
}

export function ambiguousMatch(ruleIndex: number, item: ValidResource): PlatformError {
  return invalidParameter("Match rule matches more than one resource", {
    parameter: `match_rules[${ruleIndex}]`,
    resource_id: item.reference.resource_id || undefined,
  });
}

export function otherWorkspace(item: ValidResource): PlatformError {
  return permissionDenied("The matching resource is in a workspace you may not write to", { resource_id: item.reference.resource_id || undefined });
}

export function failure(err: unknown, resourceId: string, logger: Logger): UpsertOutcome {
  if (err instanceof PlatformError) return { ok: false, error: err, resourceId };
  logger.error({ err, resource_id: resourceId }, "upsert of one item failed unexpectedly");
  return { ok: false, error: new PlatformError(ErrorCode.UNKNOWN, "Internal error while upserting this item"), resourceId };
}
