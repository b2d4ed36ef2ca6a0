import { randomUUID } from "node:crypto";
import type { JsonValue } from "@bufbuild/protobuf";
import { ErrorCode, invalidParameter, permissionDenied, PlatformError } from "@cloudforet/errors";
import type { Logger } from "pino";
import type { CloudServiceTypeRepository, TypeCatalog } from "../cloud-service-types/repository";
import type { CloudServiceRow, NewCloudServiceRow } from "../db/schema";
import type { ProjectDirectory } from "../projects/project-directory";
import type { CloudServiceRepository, UpsertValues } from "./repository";
import { isDefaultRule, matchValue, parseMatchKey, validateResource, type MatchKey, type ResourceInput, type ValidResource } from "./rules";
import { canAccessWorkspace, type Caller } from "@cloudforet/runtime";
import type { Scope } from "./scope";

/** Who is writing: the scope they may touch and how to reach identity on their behalf. */
export interface WriteAccess {
  caller: Caller;
  scope: Scope;
  /** Where a resource without project or workspace goes; undefined when the caller has no single answer. */
  defaultWorkspaceId: string | undefined;
  authorization: string | null;
}

/** What happened to one upserted item. */
export type UpsertOutcome =
  | { ok: true; created: boolean; cloudServiceId: string }
  | { ok: false; error: PlatformError; resourceId: string };

/** A validated item on its way through a batch, with the workspace it ends up in. */
interface PlannedItem {
  index: number;
  item: ValidResource;
  workspaceId: string;
}

const fastRoundSize = 1000;

/**
 * Writes resources: Create (seed 000) and the collectors' Upsert, singly or in batches. Batches
 * take a fast path for the default match rule (one lookup, one multi-row insert and one
 * multi-row update per round); other rules are matched item by item.
 */
export class ResourceWriter {
  constructor(
    private readonly resources: CloudServiceRepository,
    private readonly types: CloudServiceTypeRepository,
    private readonly projects: ProjectDirectory,
    private readonly logger: Logger,
  ) {}

  /** Seed 000 "Create Cloud Service". */
  async create(access: WriteAccess, input: ResourceInput): Promise<CloudServiceRow> {
    const item = validateResource(input);
    const catalog = await this.types.catalog(access.scope.domainId);
    assertKnownType(catalog, item);
    if (item.reference.resource_id) {
      const clash = await this.resources.findLive(access.scope.domainId, item.provider, item.cloudServiceType, item.reference.resource_id);
      if (clash) throw new PlatformError(ErrorCode.CONFLICT, "Resource already exists", { metadata: { resource_id: item.reference.resource_id } });
    }
    const workspaceId = await this.workspaceFor(access, item, new Map());
    return this.resources.insert({ ...newRow(access.scope.domainId, item, workspaceId), lastCollectedAt: null });
  }

  /** Upserts items independently; an invalid item (given as its validation error) fails alone. */
  async upsert(access: WriteAccess, inputs: Array<ResourceInput | PlatformError>): Promise<UpsertOutcome[]> {
    const outcomes: UpsertOutcome[] = new Array(inputs.length);
    const catalog = await this.types.catalog(access.scope.domainId);
    const projectWorkspaces = new Map<string, Promise<string>>();
    const fast: PlannedItem[] = [];
    const slow: PlannedItem[] = [];
    for (const [index, input] of inputs.entries()) {
      if (input instanceof PlatformError) {
        outcomes[index] = { ok: false, error: input, resourceId: "" };
        continue;
      }
      try {
        const item = validateResource(input);
        assertKnownType(catalog, item);
        const workspaceId = await this.workspaceFor(access, item, projectWorkspaces);
        const planned = { index, item, workspaceId };
        if (isDefaultRule(item.matchRules) && item.reference.resource_id) fast.push(planned);
        else slow.push(planned);
      } catch (err) {
        outcomes[index] = failure(err, input.reference.resource_id, this.logger);
      }
    }
    const retry = await this.upsertDefaultRule(access, fast, outcomes);
    for (const planned of [...slow, ...retry]) {
      try {
        outcomes[planned.index] = await this.upsertOne(access, planned);
      } catch (err) {
        outcomes[planned.index] = failure(err, planned.item.reference.resource_id, this.logger);
      }
    }
    return outcomes;
  }

  /**
   * The fast path: items whose key repeats wait for the next round, so each round's keys are
   * distinct. Returns the items to redo one by one (a concurrent writer took their key, or the
   * round failed as a whole).
   */
  private async upsertDefaultRule(access: WriteAccess, items: PlannedItem[], outcomes: UpsertOutcome[]): Promise<PlannedItem[]> {
    const redo: PlannedItem[] = [];
    let pending = items;
    while (pending.length > 0) {
      const round: PlannedItem[] = [];
      const later: PlannedItem[] = [];
      const seen = new Set<string>();
      for (const planned of pending) {
        const key = defaultKey(planned.item.provider, planned.item.cloudServiceType, planned.item.reference.resource_id);
        if (seen.has(key) || round.length >= fastRoundSize) later.push(planned);
        else {
          seen.add(key);
          round.push(planned);
        }
      }
      try {
        redo.push(...(await this.fastRound(access, round, outcomes)));
      } catch (err) {
        this.logger.warn({ err, items: round.length }, "batch upsert round failed; retrying its items one by one");
        redo.push(...round);
      }
      pending = later;
    }
    return redo;
  }

  private async fastRound(access: WriteAccess, round: PlannedItem[], outcomes: UpsertOutcome[]): Promise<PlannedItem[]> {
    const { domainId } = access.scope;
    const matches = await this.resources.findByDefaultKeys(
      domainId,
      round.map(({ item }) => ({ provider: item.provider, type: item.cloudServiceType, resourceId: item.reference.resource_id })),
    );
    const byKey = new Map<string, typeof matches>();
    for (const match of matches) {
      const key = defaultKey(match.provider, match.cloudServiceType, match.resourceId);
      byKey.set(key, [...(byKey.get(key) ?? []), match]);
    }
    const inserts: { planned: PlannedItem; row: NewCloudServiceRow }[] = [];
    const updates: { planned: PlannedItem; values: UpsertValues }[] = [];
    for (const planned of round) {
      const { item } = planned;
      const found = byKey.get(defaultKey(item.provider, item.cloudServiceType, item.reference.resource_id)) ?? [];
      if (found.length > 1) {
        outcomes[planned.index] = { ok: false, error: ambiguousMatch(0, item), resourceId: item.reference.resource_id };
      } else if (found.length === 1) {
        if (!canWrite(access, found[0].workspaceId)) {
          outcomes[planned.index] = { ok: false, error: otherWorkspace(item), resourceId: item.reference.resource_id };
        } else {
          updates.push({ planned, values: upsertValues(found[0].cloudServiceId, planned) });
        }
      } else {
        inserts.push({ planned, row: newRow(domainId, item, planned.workspaceId) });
      }
    }
    const insertedIds = new Set(await this.resources.insertMany(inserts.map((i) => i.row)));
    const redo: PlannedItem[] = [];
    for (const { planned, row } of inserts) {
      if (insertedIds.has(row.cloudServiceId!)) outcomes[planned.index] = { ok: true, created: true, cloudServiceId: row.cloudServiceId! };
      else redo.push(planned);
    }
    const updatedIds = new Set(await this.resources.updateCollected(domainId, updates.map((u) => u.values)));
    for (const { planned, values } of updates) {
      if (updatedIds.has(values.cloudServiceId)) outcomes[planned.index] = { ok: true, created: false, cloudServiceId: values.cloudServiceId };
      else redo.push(planned);
    }
    return redo;
  }

  /** One item by its match rules, in order: the first rule that finds exactly one resource selects it. */
  private async upsertOne(access: WriteAccess, planned: PlannedItem, attempt = 1): Promise<UpsertOutcome> {
    const { item } = planned;
    const { domainId } = access.scope;
    for (const [ruleIndex, rule] of item.matchRules.entries()) {
      const conditions: { key: MatchKey; value: JsonValue }[] = [];
      for (const path of rule) {
        const key = parseMatchKey(path, `match_rules[${ruleIndex}]`);
        const value = matchValue(item, key);
        if (value === undefined) break;
        conditions.push({ key, value });
      }
      // A rule with a key the item has no value for cannot select anything.
      if (conditions.length < rule.length) continue;
      const found = await this.resources.findByRule(domainId, conditions);
      if (found.length > 1) throw ambiguousMatch(ruleIndex, item);
      if (found.length === 1) {
        if (!canWrite(access, found[0].workspaceId)) throw otherWorkspace(item);
        await this.resources.updateCollected(domainId, [upsertValues(found[0].cloudServiceId, planned)]);
        return { ok: true, created: false, cloudServiceId: found[0].cloudServiceId };
      }
    }
    const [insertedId] = await this.resources.insertMany([newRow(domainId, item, planned.workspaceId)]);
    if (insertedId) return { ok: true, created: true, cloudServiceId: insertedId };
    // A live resource holds the same resource id, provider and type: with the default rule a
    // concurrent writer created it (match again); with other rules it is a real conflict.
    if (attempt === 1 && isDefaultRule(item.matchRules)) return this.upsertOne(access, planned, 2);
    throw new PlatformError(ErrorCode.CONFLICT, "Resource already exists", { metadata: { resource_id: item.reference.resource_id } });
  }

  /** The workspace a resource moved to this project goes to (Update's project_id). */
  async projectWorkspace(access: WriteAccess, projectId: string): Promise<string> {
    const workspaceId = await this.projects.workspaceOf(projectId, access.authorization);
    if (!canWrite(access, workspaceId)) throw permissionDenied("Write access to workspace denied", { workspace_id: workspaceId });
    return workspaceId;
  }

  /** The project's workspace, else the one given, else the caller's own. */
  private async workspaceFor(access: WriteAccess, item: ValidResource, cache: Map<string, Promise<string>>): Promise<string> {
    let workspaceId: string;
    if (item.projectId) {
      let lookup = cache.get(item.projectId);
      if (!lookup) {
        lookup = this.projects.workspaceOf(item.projectId, access.authorization);
        cache.set(item.projectId, lookup);
      }
      workspaceId = await lookup;
      if (item.workspaceId && item.workspaceId !== workspaceId) {
        throw invalidParameter("project_id belongs to another workspace", { parameter: "project_id", value: item.projectId });
      }
    } else if (item.workspaceId) {
      workspaceId = item.workspaceId;
    } else if (access.defaultWorkspaceId !== undefined) {
      workspaceId = access.defaultWorkspaceId;
    } else {
      throw invalidParameter("project_id is required to choose one of your workspaces", { parameter: "project_id" });
    }
    if (!canWrite(access, workspaceId)) throw permissionDenied("Write access to workspace denied", { workspace_id: workspaceId });
    return workspaceId;
  }
}

/** Domain-level resources (no workspace) are written by domain admins only. */
export function canWrite(access: WriteAccess, workspaceId: string): boolean {
  return workspaceId === "" ? access.caller.domainAdmin : canAccessWorkspace(access.caller, workspaceId, "write");
}

function defaultKey(provider: string, type: string, resourceId: string): string {
  return JSON.stringify([provider, type, resourceId]);
}

function assertKnownType(catalog: TypeCatalog, item: ValidResource): void {
  if (!catalog.allows(item.cloudServiceType, item.provider)) {
    throw invalidParameter("Unknown cloud service type", { parameter: "cloud_service_type", value: item.cloudServiceType });
  }
}

function newRow(domainId: string, item: ValidResource, workspaceId: string): NewCloudServiceRow {
  const collected = item.collectorId !== "" || item.jobTaskId !== "";
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
    lastCollectedAt: collected ? new Date() : null,
  };
}

function upsertValues(cloudServiceId: string, { item, workspaceId }: PlannedItem): UpsertValues {
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
  };
}

function ambiguousMatch(ruleIndex: number, item: ValidResource): PlatformError {
  return invalidParameter("Match rule matches more than one resource", {
    parameter: `match_rules[${ruleIndex}]`,
    resource_id: item.reference.resource_id || undefined,
  });
}

function otherWorkspace(item: ValidResource): PlatformError {
  return permissionDenied("The matching resource is in a workspace you may not write to", { resource_id: item.reference.resource_id || undefined });
}

function failure(err: unknown, resourceId: string, logger: Logger): UpsertOutcome {
  if (err instanceof PlatformError) return { ok: false, error: err, resourceId };
  logger.error({ err, resource_id: resourceId }, "upsert of one item failed unexpectedly");
  return { ok: false, error: new PlatformError(ErrorCode.UNKNOWN, "Internal error while upserting this item"), resourceId };
}
