import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { invalidParameter, missingParameter, notFound, permissionDenied, PlatformError } from "@cloudforet/errors";
import {
  CloudServiceService,
  type CloudServiceServiceBatchUpsertRequest,
  type CloudServiceServiceUpsertRequest,
  type Reference,
} from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_pb";
import { mergeTags, normalizeQuery, normalizeStatQuery, tenantScope, type QueryInput, type StatQueryInput } from "@cloudforet/query";
import { callerOf } from "@cloudforet/runtime";
import type { Logger } from "pino";
import type { ResourceReference } from "../db/schema";
import type { CloudServiceRepository, CloudServicePatch } from "./repository";
import { canWrite, mayTouchTheSame, userAuthor, type ResourceWriter, type UpsertOutcome, type WriteAccess } from "./resource-writer";
import { checkId, mergeData, stateFromData, validateData, validateState, type ResourceInput } from "./cloud-services";
import { cloudServiceMessage, createdMessage, listResultMessage } from "./to-message";
import { OrderedWrites } from "./ordered-writes";

/** Items of a BatchUpsert stream are written in chunks of this many. */
const BATCH_CHUNK = 500;
/** Chunks of one stream in flight at once (OrderedWrites): the next is read and checked while these are written. */
const BATCH_PIPELINE = 2;
/** A stream may carry at most this many items. */
const MAX_STREAM_ITEMS = 1_000_000;
/** Per-item errors listed in a BatchUpsert answer (counts stay exact beyond it). */
const MAX_LISTED_ERRORS = 10_000;

function accessOf(ctx: HandlerContext): WriteAccess {
  const caller = callerOf(ctx);
  // Without project or workspace a resource goes to the caller's one writable workspace (domain level for an admin).
  const owned = caller.roles.filter((r) => r.role === "WORKSPACE_OWNER" && r.workspace_id).map((r) => r.workspace_id!);
  const defaultWorkspaceId = caller.domainAdmin ? "" : owned.length === 1 ? owned[0] : caller.workspaceIds.length === 1 ? caller.workspaceIds[0] : undefined;
  return { caller, scope: tenantScope(caller), defaultWorkspaceId, authorization: ctx.requestHeader.get("authorization") };
}

function referenceOf(reference: Reference | undefined): ResourceReference {
  return { resource_id: reference?.resourceId ?? "", external_link: reference?.externalLink ?? "" };
}

function upsertInput(req: CloudServiceServiceUpsertRequest): ResourceInput {
  return {
    cloudServiceType: req.cloudServiceType,
    cloudServiceGroup: req.cloudServiceGroup,
    cloudServiceName: req.cloudServiceName,
    provider: req.provider,
    account: req.account,
    data: req.data ?? {},
    tags: req.tags,
    reference: referenceOf(req.reference),
    projectId: req.projectId,
    workspaceId: req.workspaceId,
    collectorId: req.collectorId,
    jobTaskId: req.jobTaskId,
    matchRules: req.matchRules.map((rule) => rule.keys),
    jobId: checkedId("job_id", req.jobId),
    ruleChanges: checkedRuleChanges(req.ruleChanges, req.collectorId),
    collectorRulesApplied: req.collectorRulesApplied,
  };
}

/** DELETED resources stay out of List and Stat unless the query asks about `state`. */
function filtersOnState(filters: { key: string }[]): boolean {
  return filters.some((f) => f.key === "state");
}

function checkedId(parameter: string, id: string): string {
  checkId(parameter, id);
  return id;
}

/**
 * rule_changes: at most 200 keys of at most 256 characters, each naming a valid rule id, and only on a
 * collected item (rules run during collections): a write by hand cannot name a rule as its author.
 */
function checkedRuleChanges(changes: Record<string, string>, collectorId: string): Record<string, string> {
  const entries = Object.entries(changes);
  if (entries.length > 0 && !collectorId) throw invalidParameter("rule_changes needs collector_id: rules apply during collections", { parameter: "rule_changes" });
  if (entries.length > 200) throw invalidParameter("rule_changes has more than 200 keys", { parameter: "rule_changes" });
  for (const [key, ruleId] of entries) {
    if (!key || key.length > 256) throw invalidParameter("rule_changes has an invalid key", { parameter: "rule_changes" });
    checkId("rule_changes", ruleId);
  }
  return changes;
}

function requireId(id: string): string {
  if (!id) throw missingParameter("cloud_service_id");
  checkId("cloud_service_id", id);
  return id;
}

export function cloudServiceHandlers(resources: CloudServiceRepository, writer: ResourceWriter, logger: Logger): ServiceImpl<typeof CloudServiceService> {
  return {
    async create(req, ctx) {
      const row = await writer.create(accessOf(ctx), {
        cloudServiceType: req.cloudServiceType,
        cloudServiceGroup: req.cloudServiceGroup,
        cloudServiceName: req.cloudServiceName,
        provider: req.provider,
        account: req.account,
        data: req.data ?? {},
        tags: req.tags,
        reference: referenceOf(req.reference),
        projectId: req.projectId,
        workspaceId: "",
        collectorId: "",
        jobTaskId: "",
        matchRules: [],
      });
      return createdMessage(row);
    },

    async update(req, ctx) {
      const id = requireId(req.cloudServiceId);
      const access = accessOf(ctx);
      if (req.name !== undefined && (!req.name || req.name.length > 255)) throw invalidParameter("name must be 1-255 characters", { parameter: "name" });
      if (req.cloudServiceGroup !== undefined && req.cloudServiceGroup.length > 255) throw invalidParameter("cloud_service_group is too long", { parameter: "cloud_service_group" });
      const state = req.state !== undefined ? validateState(req.state) : undefined;
      if (req.data) validateData(req.data, "data");
      const reference = req.reference ? referenceOf(req.reference) : undefined;
      if (reference && (reference.resource_id.length > 255 || reference.external_link.length > 2048)) {
        throw invalidParameter("reference is too long", { parameter: "reference" });
      }
      let workspaceId: string | undefined;
      if (req.projectId) {
        checkId("project_id", req.projectId);
        workspaceId = await writer.projectWorkspace(access, req.projectId);
      }
      const updated = await resources.update(access.scope, id, (current) => {
        if (!canWrite(access, current.workspaceId)) throw permissionDenied("Write access to workspace denied", { workspace_id: current.workspaceId });
        const patch: CloudServicePatch = {};
        if (req.name !== undefined) patch.name = req.name;
        if (req.cloudServiceGroup !== undefined) patch.cloudServiceGroup = req.cloudServiceGroup;
        if (req.data) {
          patch.data = mergeData(current.data, req.data);
          validateData(patch.data, "data");
          if (state === undefined && Object.hasOwn(req.data, "state")) patch.state = stateFromData(patch.data);
        }
        if (state !== undefined) patch.state = state;
        if (Object.keys(req.tags).length > 0 || req.removeTags.length > 0) patch.tags = mergeTags(current.tags, req.tags, req.removeTags);
        if (reference) patch.reference = reference;
        if (req.projectId !== undefined) {
          patch.projectId = req.projectId;
          if (workspaceId !== undefined) patch.workspaceId = workspaceId;
        }
        // A hand-set state brings a DISCONNECTED or DELETED resource back.
        if (patch.state !== undefined) Object.assign(patch, { deletedAt: null, missCount: 0 } satisfies CloudServicePatch);
        return patch;
      }, userAuthor(access));
      if (!updated) throw notFound("Cloud service not found", { cloud_service_id: id });
      return cloudServiceMessage(updated);
    },

    async upsert(req, ctx) {
      const access = accessOf(ctx);
      const [outcome] = await writer.upsert(access, [upsertInput(req)]);
      if (!outcome.ok) throw outcome.error;
      const row = await resources.get({ domainId: access.scope.domainId }, outcome.cloudServiceId);
      if (!row) throw notFound("Cloud service not found", { cloud_service_id: outcome.cloudServiceId });
      return { ...cloudServiceMessage(row), created: outcome.created };
    },

    async batchUpsert(requests: AsyncIterable<CloudServiceServiceBatchUpsertRequest>, ctx) {
      const access = accessOf(ctx);
      const summary = { createdCount: 0, updatedCount: 0, failedCount: 0, errors: [] as { index: number; errorCode: string; message: string; resourceId: string }[] };
      let buffered: ResourceInput[] = [];
      const writes = new OrderedWrites(
        BATCH_PIPELINE,
        (chunk: ResourceInput[]) => writer.prepare(access, chunk),
        (prepared) => writer.write(access, prepared),
        (outcomes, offset) => record(summary, outcomes, offset),
        mayTouchTheSame,
      );
      try {
        for await (const message of requests) {
          for (const item of message.items) {
            if (writes.count + buffered.length >= MAX_STREAM_ITEMS) {
              throw invalidParameter(`A BatchUpsert stream carries at most ${MAX_STREAM_ITEMS} items`, { parameter: "items" });
            }
            buffered.push(upsertInput(item));
            if (buffered.length >= BATCH_CHUNK) await writes.add(buffered.splice(0));
          }
        }
        if (buffered.length > 0) await writes.add(buffered.splice(0));
        await writes.finish();
      } finally {
        await writes.drain();
      }
      logger.debug({ ...summary, errors: summary.errors.length }, "batch upsert done");
      return summary;
    },

    async get(req, ctx) {
      const id = requireId(req.cloudServiceId);
      const row = await resources.get(tenantScope(callerOf(ctx)), id);
      if (!row) throw notFound("Cloud service not found", { cloud_service_id: id });
      return cloudServiceMessage(row);
    },

    async delete(req, ctx) {
      const id = requireId(req.cloudServiceId);
      const access = accessOf(ctx);
      const current = await resources.get(access.scope, id);
      if (!current) throw notFound("Cloud service not found", { cloud_service_id: id });
      if (!canWrite(access, current.workspaceId)) throw permissionDenied("Write access to workspace denied", { workspace_id: current.workspaceId });
      await resources.softDelete(access.scope, id, userAuthor(access));
      return {};
    },

    async list(req, ctx) {
      const query = (req.query ?? {}) as QueryInput;
      const normalized = normalizeQuery(query);
      const includeDeleted = filtersOnState([...normalized.filter, ...normalized.filterOr]);
      const { results, total_count, total_count_exact } = await resources.list(tenantScope(callerOf(ctx)), query, includeDeleted);
      // Whether total_count is exact or a lower bound (more rows match than a page counts, README
      // "Queries at scale"): the response field, and the header for clients that predate the field.
      ctx.responseHeader.set(TOTAL_COUNT_EXACT_HEADER, String(total_count_exact));
      return { results: results.map(listResultMessage), totalCount: total_count, totalCountExact: total_count_exact };
    },

    async stat(req, ctx) {
      const query = (req.query ?? {}) as StatQueryInput;
      const normalized = normalizeStatQuery(query);
      const includeDeleted = filtersOnState([...normalized.filter, ...normalized.filterOr]);
      const { results } = await resources.stat(tenantScope(callerOf(ctx)), query, includeDeleted);
      return { results: results as never };
    },
  };
}

/** Response header of List: "true" when total_count is exact, "false" when it is a lower bound. */
export const TOTAL_COUNT_EXACT_HEADER = "cloudforet-total-count-exact";

function record(
  summary: { createdCount: number; updatedCount: number; failedCount: number; errors: { index: number; errorCode: string; message: string; resourceId: string }[] },
  outcomes: UpsertOutcome[],
  offset: number,
): void {
  for (const [i, outcome] of outcomes.entries()) {
    if (outcome.ok) {
      if (outcome.created) summary.createdCount += 1;
      else summary.updatedCount += 1;
      continue;
    }
    summary.failedCount += 1;
    if (summary.errors.length < MAX_LISTED_ERRORS) {
      summary.errors.push({ index: offset + i, errorCode: outcome.error.code, message: errorMessage(outcome.error), resourceId: outcome.resourceId });
    }
  }
}

/** The message with the parameter it names, so a reader of the batch answer knows which field. */
function errorMessage(error: PlatformError): string {
  const parameter = error.metadata.parameter;
  return parameter && !error.message.includes(parameter) ? `${error.message} (${parameter})` : error.message;
}
