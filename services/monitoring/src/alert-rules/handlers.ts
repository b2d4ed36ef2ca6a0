import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { notFound } from "@cloudforet/errors";
import { AlertRuleService } from "@cloudforet/proto/cloudforet/monitoring/v1/alert_rule_pb";
import { tenantScope, type TenantScope } from "@cloudforet/query";
import { callerOf } from "@cloudforet/runtime";
import { requireRowWrite, requiredId } from "../alerts/alert-fields";
import type { EscalationPolicyRepository } from "../escalation-policies/repository";
import { writeWorkspace } from "../metrics/metrics";
import { validateRule, type RuleDefinition } from "./alert-rules";
import type { AlertRuleRepository } from "./repository";
import { fromListRow, seriesMessage, toMessage } from "./to-message";

/** `wake`: a rule changed, so this replica's alerting loop re-plans at once (others hear the NOTIFY). */
export function alertRuleHandlers(rules: AlertRuleRepository, policies: EscalationPolicyRepository, wake: () => void): ServiceImpl<typeof AlertRuleService> {
  const load = async (ctx: HandlerContext, id: string) => {
    const caller = callerOf(ctx);
    const ruleId = requiredId(id, "alert_rule_id");
    const row = await rules.get(tenantScope(caller), ruleId);
    if (!row) throw notFound("Alert rule not found", { alert_rule_id: ruleId });
    return { caller, row };
  };
  /** The policy must exist where the caller can see it (ERROR_NOT_FOUND otherwise). */
  const checkPolicy = async (scope: TenantScope, definition: RuleDefinition) => {
    if (definition.escalationPolicyId && !(await policies.get(scope, definition.escalationPolicyId))) {
      throw notFound("Escalation policy not found", { escalation_policy_id: definition.escalationPolicyId });
    }
  };

  return {
    async create(req, ctx) {
      const caller = callerOf(ctx);
      const definition = validateRule(req);
      const workspaceId = writeWorkspace(caller, req.workspaceId);
      await checkPolicy(tenantScope(caller), definition);
      const row = await rules.create(caller.domainId, workspaceId, definition);
      wake();
      return { alertRule: toMessage(row) };
    },

    async update(req, ctx) {
      const { caller, row } = await load(ctx, req.alertRuleId);
      requireRowWrite(caller, row.workspaceId);
      const definition = validateRule(req);
      await checkPolicy(tenantScope(caller), definition);
      const updated = await rules.update(row, definition);
      wake();
      return { alertRule: toMessage(updated) };
    },

    async get(req, ctx) {
      return { alertRule: toMessage((await load(ctx, req.alertRuleId)).row) };
    },

    async list(req, ctx) {
      const { results, total_count } = await rules.list(tenantScope(callerOf(ctx)), req.query ?? {});
      return { results: results.map(fromListRow), totalCount: total_count };
    },

    async listSeries(req, ctx) {
      const { row } = await load(ctx, req.alertRuleId);
      const series = await rules.series(row.alertRuleId);
      return { results: series.map(seriesMessage), totalCount: series.length };
    },

    async delete(req, ctx) {
      const { caller, row } = await load(ctx, req.alertRuleId);
      requireRowWrite(caller, row.workspaceId);
      if (!(await rules.delete(row))) throw notFound("Alert rule not found", { alert_rule_id: row.alertRuleId });
      return {};
    },
  };
}
