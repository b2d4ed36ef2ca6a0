import type { JsonValue } from "@bufbuild/protobuf";
import { ErrorCode, invalidParameter, permissionDenied, PlatformError } from "@cloudforet/errors";
import type { Logger } from "pino";
import type { CloudServiceTypeRepository } from "../cloud-service-types/repository";
import type { CloudServiceRow } from "../db/schema";
import type { ProjectDirectory } from "../projects/project-directory";
import type { CollectionRepository, MatchedResource, NewCollectedRow, UpsertValues } from "./collection-repository";
import { upsertByRules } from "./rule-rounds";
import type { CloudServiceRepository } from "./repository";
import { ambiguousMatch, assertKnownType, collectionScope, defaultKey, failure, isWithin, newRow, otherWorkspace, outsideCollection, upsertValues, type PlannedItem, type UpsertOutcome } from "./upsert-items";
import type { TenantScope } from "@cloudforet/query";
import { DELETED, isDefaultRule, matchValue, parseMatchKey, validateResource, type MatchKey, type ResourceInput, type ValidResource } from "./cloud-services";
import { canAccessWorkspace, type Caller } from "@cloudforet/runtime";
import type { ChangeAuthor } from "../change-history/history-sql";
import type { PushCollectorRules } from "../collector-rules/push-rules";

export type { UpsertOutcome } from "./upsert-items";

/** Who is writing: the scope they may touch and how to reach identity on their behalf. */
export interface WriteAccess {
  caller: Caller;
  scope: TenantScope;
  /** Where a resource without project or workspace goes; undefined when the caller has no single answer. */
  defaultWorkspaceId: string | undefined;
  authorization: string | null;
}

const fastRoundSize = 1000;

/** Items ready to write (ResourceWriter.prepare): as given after collector rules, and checked. */
export interface PreparedItems {
  inputs: Array<ResourceInput | PlatformError>;
  validated: Array<ValidResource | PlatformError | { invalid: unknown }>;
  /**
   * The default-rule keys the items can touch; undefined when some item matches by another rule
   * (it may find or create a resource under any key).
   */
  keys: Set<string> | undefined;
}

/** Matched by its default key alone (provider, type, resource id): the batched fast path. */
function matchedByDefaultKey(item: ValidResource): boolean {
  return isDefaultRule(item.matchRules) && item.reference.resource_id !== "";
}

const isValid = (v: ValidResource | PlatformError | { invalid: unknown }): v is ValidResource => !(v instanceof PlatformError) && !("invalid" in v);

/** Whether writing two prepared batches in either order could end differently: they may touch a resource in common. */
export function mayTouchTheSame(a: PreparedItems, b: PreparedItems): boolean {
  if (!a.keys || !b.keys) return true;
  const [small, large] = a.keys.size <= b.keys.size ? [a.keys, b.keys] : [b.keys, a.keys];
  for (const key of small) if (large.has(key)) return true;
  return false;
}

/**
 * Writes resources: Create (seed 000) and the collectors' Upsert, singly or in batches. Batches
 * take a fast path for the default match rule (one lookup, one multi-row insert and one
 * multi-row update per round); other rules are batched per rule (rule-rounds.ts); only retries
 * after a concurrent writer are matched item by item.
 */
export class ResourceWriter {
  constructor(
    private readonly resources: CloudServiceRepository,
    private readonly collected: CollectionRepository,
    private readonly types: CloudServiceTypeRepository,
    private readonly projects: ProjectDirectory,
    private readonly logger: Logger,
    /** Applies collector rules to collected items inventory did not rule (push collections). */
    private readonly pushRules?: PushCollectorRules,
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
    const { collected: _notCollected, author: _author, ...row } = newRow(access.scope.domainId, item, workspaceId);
    return this.resources.insert({ ...row, lastCollectedAt: null }, userAuthor(access));
  }

  /** Upserts items independently; an invalid item (given as its validation error) fails alone. */
  async upsert(access: WriteAccess, given: Array<ResourceInput | PlatformError>): Promise<UpsertOutcome[]> {
    return this.write(access, await this.prepare(access, given));
  }

  /**
   * The part of an upsert that writes nothing and reads no resource: collector rules applied and
   * every item checked. A stream prepares its next chunk while the previous one is written.
   */
  async prepare(access: WriteAccess, given: Array<ResourceInput | PlatformError>): Promise<PreparedItems> {
    const inputs = this.pushRules ? await this.pushRules.apply(access.scope, access.authorization, given) : given;
    const validated = inputs.map((input): ValidResource | PlatformError | { invalid: unknown } => {
      if (input instanceof PlatformError) return input;
      try {
        return { ...validateResource(input), userId: access.caller.userId };
      } catch (err) {
        return { invalid: err };
      }
    });
    // Invalid items fail alone and write nothing; any other rule may touch a resource under any key.
    const valid = validated.filter(isValid);
    const keys = valid.every(matchedByDefaultKey) ? new Set(valid.map((item) => defaultKey(item.provider, item.cloudServiceType, item.reference.resource_id))) : undefined;
    return { inputs, validated, keys };
  }

  /** Writes prepared items: each is matched, then created or updated, or fails alone. */
  async write(access: WriteAccess, { inputs, validated }: PreparedItems): Promise<UpsertOutcome[]> {
    const outcomes: UpsertOutcome[] = new Array(inputs.length);
    // The catalog and the first fast round's lookup are independent reads: one round trip for both.
    const [catalog, prefetched] = await Promise.all([this.types.catalog(access.scope.domainId), this.prefetchDefaultKeys(access, validated)]);
    const projectWorkspaces = new Map<string, Promise<string>>();
    const fast: PlannedItem[] = [];
    const slow: PlannedItem[] = [];
    for (const [index, input] of inputs.entries()) {
      const valid = validated[index];
      if (valid instanceof PlatformError) {
        outcomes[index] = { ok: false, error: valid, resourceId: valid.metadata.resource_id ?? "" };
        continue;
      }
      try {
        if ("invalid" in valid) throw valid.invalid;
        const item = valid;
        assertKnownType(catalog, item);
        const workspaceId = await this.workspaceFor(access, item, projectWorkspaces);
        const planned = { index, item, workspaceId };
        if (matchedByDefaultKey(item)) fast.push(planned);
        else slow.push(planned);
      } catch (err) {
        outcomes[index] = failure(err, (input as ResourceInput).reference.resource_id, this.logger);
      }
    }
    const retry = await this.upsertDefaultRule(access, fast, outcomes, prefetched);
    const redo = await upsertByRules(this.collected, access.scope.domainId, (workspaceId) => canWrite(access, workspaceId), slow, outcomes, this.logger);
    for (const { planned, attempt } of [...redo, ...retry.map((planned) => ({ planned, attempt: 1 as const }))]) {
      try {
        outcomes[planned.index] = await this.upsertOne(access, planned, attempt);
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
  private async upsertDefaultRule(access: WriteAccess, items: PlannedItem[], outcomes: UpsertOutcome[], prefetched?: MatchedResource[]): Promise<PlannedItem[]> {
    const redo: PlannedItem[] = [];
    let pending = items;
    // The prefetched matches were read before anything of this batch was written: good for the first round only.
    let known = prefetched;
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
        redo.push(...(await this.fastRound(access, round, outcomes, known)));
      } catch (err) {
        this.logger.warn({ err, items: round.length }, "batch upsert round failed; retrying its items one by one");
        redo.push(...round);
      }
      pending = later;
      known = undefined;
    }
    return redo;
  }

  /**
   * What the default-rule items of a batch match (findByDefaultKeys), read ahead; undefined when
   * there are none or the read failed (the first round then reads for itself). It covers every
   * candidate, so whichever items the first round takes; those that turn out invalid only make the
   * read a little larger.
   */
  private async prefetchDefaultKeys(access: WriteAccess, validated: Array<ValidResource | PlatformError | { invalid: unknown }>): Promise<MatchedResource[] | undefined> {
    const keys = validated
      .filter((v): v is ValidResource => isValid(v) && matchedByDefaultKey(v))
      .map((item) => ({ provider: item.provider, type: item.cloudServiceType, resourceId: item.reference.resource_id }));
    if (keys.length === 0) return undefined;
    return this.collected.findByDefaultKeys(access.scope.domainId, keys).catch((err: unknown) => {
      this.logger.warn({ err }, "reading ahead what a batch matches failed");
      return undefined;
    });
  }

  private async fastRound(access: WriteAccess, round: PlannedItem[], outcomes: UpsertOutcome[], known?: MatchedResource[]): Promise<PlannedItem[]> {
    const { domainId } = access.scope;
    const matches =
      known ??
      (await this.collected.findByDefaultKeys(
        domainId,
        round.map(({ item }) => ({ provider: item.provider, type: item.cloudServiceType, resourceId: item.reference.resource_id })),
      ));
    const byKey = new Map<string, typeof matches>();
    for (const match of matches) {
      const key = defaultKey(match.provider, match.cloudServiceType, match.resourceId);
      byKey.set(key, [...(byKey.get(key) ?? []), match]);
    }
    const inserts: { planned: PlannedItem; row: NewCollectedRow }[] = [];
    const updates: { planned: PlannedItem; values: UpsertValues }[] = [];
    for (const planned of round) {
      const { item } = planned;
      const all = byKey.get(defaultKey(item.provider, item.cloudServiceType, item.reference.resource_id)) ?? [];
      const within = collectionScope(planned);
      const found = within ? all.filter((match) => isWithin(match, within)) : all;
      if (within && all.some((match) => !isWithin(match, within) && match.state !== DELETED)) {
        outcomes[planned.index] = { ok: false, error: outsideCollection(item), resourceId: item.reference.resource_id };
      } else if (found.length > 1) {
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
    const insertedIds = new Set(await this.collected.insertMany(inserts.map((i) => i.row)));
    const redo: PlannedItem[] = [];
    for (const { planned, row } of inserts) {
      if (insertedIds.has(row.cloudServiceId!)) outcomes[planned.index] = { ok: true, created: true, cloudServiceId: row.cloudServiceId! };
      else redo.push(planned);
    }
    const updatedIds = new Set(await this.collected.updateCollected(domainId, updates.map((u) => u.values)));
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
      const found = await this.collected.findByRule(domainId, conditions, collectionScope(planned));
      if (found.length > 1) throw ambiguousMatch(ruleIndex, item);
      if (found.length === 1) {
        if (!canWrite(access, found[0].workspaceId)) throw otherWorkspace(item);
        await this.collected.updateCollected(domainId, [upsertValues(found[0].cloudServiceId, planned)]);
        return { ok: true, created: false, cloudServiceId: found[0].cloudServiceId };
      }
    }
    const [insertedId] = await this.collected.insertMany([newRow(domainId, item, planned.workspaceId)]);
    if (insertedId) return { ok: true, created: true, cloudServiceId: insertedId };
    // A live resource holds the same resource id, provider and type: with the default rule a
    // concurrent writer created it (match again); with other rules it is a real conflict.
    if (attempt === 1 && isDefaultRule(item.matchRules)) return this.upsertOne(access, planned, 2);
    // A collection matches only inside its scope, so the live resource holding the key is outside it.
    if (collectionScope(planned)) throw outsideCollection(item);
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

/** A write by hand: the caller is its author. */
export function userAuthor(access: WriteAccess): ChangeAuthor {
  return { userId: access.caller.userId, collectorId: "", jobId: "", jobTaskId: "", ruleChanges: {} };
}

/** Domain-level resources (no workspace) are written by domain admins only. */
export function canWrite(access: WriteAccess, workspaceId: string): boolean {
  return workspaceId === "" ? access.caller.domainAdmin : canAccessWorkspace(access.caller, workspaceId, "write");
}
