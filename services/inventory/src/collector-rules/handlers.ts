import { randomUUID } from "node:crypto";
import { toJson, type JsonValue } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { invalidParameter, missingParameter, notFound, permissionDenied } from "@cloudforet/errors";
import type { Filter } from "@cloudforet/proto/cloudforet/common/v1/query_pb";
import { CollectorRuleService } from "@cloudforet/proto/cloudforet/inventory/v1/collector_rule_pb";
import { mergeTags, tenantScope, validateTags } from "@cloudforet/query";
import { callerOf, canAccessWorkspace, requireWorkspaceAccess, type Caller } from "@cloudforet/runtime";
import type { Logger } from "pino";
import { validateId } from "../collectors/collectors";
import type { CollectorRepository } from "../collectors/repository";
import type { CollectorRuleRow, RuleCondition } from "../db/schema";
import { validateActions, validateConditions, validatePolicy, validateRuleName } from "./collector-rules";
import type { RuleDryRun } from "./dry-run";
import type { CollectorRulePatch, CollectorRuleRepository } from "./repository";
import { collectorRuleMessage } from "./to-message";

export interface CollectorRuleDeps {
  rules: CollectorRuleRepository;
  collectors: CollectorRepository;
  dryRun: RuleDryRun;
  logger: Logger;
}

const conditionsOf = (filters: Filter[]): RuleCondition[] =>
  filters.map((f) => ({ k: f.k, v: f.v ? (toJson(ValueSchema, f.v) as JsonValue) : undefined, o: f.o }));

function requireRuleId(id: string): string {
  if (!id) throw missingParameter("collector_rule_id");
  return validateId("collector_rule_id", id);
}

/** Domain rules are the domain admins'; a collector's rules are theirs who may write its workspace. */
function requireWrite(caller: Caller, rule: Pick<CollectorRuleRow, "collectorId" | "workspaceId">): void {
  if (!rule.collectorId) {
    if (!caller.domainAdmin) throw permissionDenied("Only a domain admin may change domain rules", { domain_id: caller.domainId });
    return;
  }
  requireWorkspaceAccess(caller, rule.workspaceId, "write");
}

export function collectorRuleHandlers(deps: CollectorRuleDeps): ServiceImpl<typeof CollectorRuleService> {
  const { rules, collectors, dryRun, logger } = deps;

  async function found(ctx: HandlerContext, id: string): Promise<CollectorRuleRow> {
    const row = await rules.get(tenantScope(callerOf(ctx)), requireRuleId(id));
    if (!row) throw notFound("Collector rule not found", { collector_rule_id: id });
    return row;
  }

  return {
    async create(req, ctx) {
      const caller = callerOf(ctx);
      const scope = tenantScope(caller);
      const collectorRuleId = req.collectorRuleId ? validateId("collector_rule_id", req.collectorRuleId) : `cr-${randomUUID().slice(0, 13)}`;
      const name = validateRuleName(req.name);
      const conditionsPolicy = validatePolicy(req.conditionsPolicy);
      const conditions = validateConditions(conditionsOf(req.conditions));
      const actions = validateActions(req.actions);
      const tags = validateTags(req.tags);
      let workspaceId = "";
      if (req.collectorId) {
        const collector = await collectors.get(scope, validateId("collector_id", req.collectorId));
        if (!collector) throw notFound("Collector not found", { collector_id: req.collectorId });
        workspaceId = collector.workspaceId;
      }
      requireWrite(caller, { collectorId: req.collectorId, workspaceId });
      const row = await rules.create({
        domainId: scope.domainId,
        collectorRuleId,
        workspaceId,
        collectorId: req.collectorId,
        name,
        conditions,
        conditionsPolicy,
        actions,
        stopProcessing: req.stopProcessing,
        tags,
      });
      logger.info({ collector_rule_id: row.collectorRuleId, collector_id: row.collectorId, order: row.ruleOrder }, "collector rule created");
      return { rule: collectorRuleMessage(row) };
    },

    async get(req, ctx) {
      return { rule: collectorRuleMessage(await found(ctx, req.collectorRuleId)) };
    },

    async list(req, ctx) {
      const { results, total_count } = await rules.list(tenantScope(callerOf(ctx)), req.query ?? {});
      return { results: (results as unknown as CollectorRuleRow[]).map((row) => listMessage(row)), totalCount: total_count };
    },

    async update(req, ctx) {
      const id = requireRuleId(req.collectorRuleId);
      const caller = callerOf(ctx);
      const patch: CollectorRulePatch = {};
      if (req.name !== undefined) patch.name = validateRuleName(req.name);
      if (req.conditionsPolicy !== undefined) patch.conditionsPolicy = validatePolicy(req.conditionsPolicy);
      if (req.updateConditions) patch.conditions = validateConditions(conditionsOf(req.conditions));
      else if (req.conditions.length > 0) throw invalidParameter("set update_conditions to replace the conditions", { parameter: "update_conditions" });
      if (req.actions) patch.actions = validateActions(req.actions);
      if (req.stopProcessing !== undefined) patch.stopProcessing = req.stopProcessing;
      const row = await rules.update(tenantScope(caller), id, (current) => {
        requireWrite(caller, current);
        return Object.keys(req.tags).length > 0 ? { ...patch, tags: mergeTags(current.tags, req.tags, []) } : patch;
      });
      if (!row) throw notFound("Collector rule not found", { collector_rule_id: id });
      logger.info({ collector_rule_id: id }, "collector rule updated");
      return { rule: collectorRuleMessage(row) };
    },

    async delete(req, ctx) {
      const id = requireRuleId(req.collectorRuleId);
      const caller = callerOf(ctx);
      if (!(await rules.delete(tenantScope(caller), id, (current) => requireWrite(caller, current)))) {
        throw notFound("Collector rule not found", { collector_rule_id: id });
      }
      logger.info({ collector_rule_id: id }, "collector rule deleted");
      return {};
    },

    async changeOrder(req, ctx) {
      const id = requireRuleId(req.collectorRuleId);
      if (!Number.isInteger(req.order) || req.order < 1) throw invalidParameter("order must be 1 or more", { parameter: "order", value: String(req.order) });
      const caller = callerOf(ctx);
      const row = await rules.changeOrder(tenantScope(caller), id, req.order, (current) => requireWrite(caller, current));
      if (!row) throw notFound("Collector rule not found", { collector_rule_id: id });
      logger.info({ collector_rule_id: id, order: row.ruleOrder }, "collector rule moved");
      return { rule: collectorRuleMessage(row) };
    },

    async dryRun(req, ctx) {
      const rule = await found(ctx, req.collectorRuleId);
      const caller = callerOf(ctx);
      if (rule.workspaceId && !canAccessWorkspace(caller, rule.workspaceId, "read")) throw notFound("Collector rule not found", { collector_rule_id: rule.collectorRuleId });
      return dryRun.run(rule, { start: req.page?.start ?? 0, limit: req.page?.limit ?? 0 }, ctx.requestHeader.get("authorization"));
    },
  };
}

/** A List row (the query language's projection, keyed by field name). */
function listMessage(row: unknown) {
  const r = row as Record<string, unknown>;
  return collectorRuleMessage({
    collectorRuleId: (r.collector_rule_id as string) ?? "",
    name: (r.name as string) ?? "",
    collectorId: (r.collector_id as string) ?? "",
    ruleOrder: (r.order as number) ?? 0,
    conditions: (r.conditions as RuleCondition[]) ?? [],
    conditionsPolicy: (r.conditions_policy as CollectorRuleRow["conditionsPolicy"]) ?? "ALL",
    actions: (r.actions as CollectorRuleRow["actions"]) ?? {},
    stopProcessing: (r.stop_processing as boolean) ?? false,
    tags: (r.tags as Record<string, string>) ?? {},
    workspaceId: (r.workspace_id as string) ?? "",
    domainId: (r.domain_id as string) ?? "",
    createdAt: dateOf(r.created_at),
    updatedAt: dateOf(r.updated_at),
  });
}

const dateOf = (value: unknown): Date => {
  const date = value instanceof Date ? value : new Date(typeof value === "string" ? value : 0);
  return Number.isNaN(date.getTime()) ? new Date(0) : date;
}
