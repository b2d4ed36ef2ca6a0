import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { notFound } from "@cloudforet/errors";
import { EscalationPolicyService } from "@cloudforet/proto/cloudforet/monitoring/v1/escalation_policy_pb";
import { tenantScope, validateTags } from "@cloudforet/query";
import { callerOf } from "@cloudforet/runtime";
import { requireRowWrite, requiredId, requiredText } from "../alerts/alert-fields";
import { writeWorkspace } from "../metrics/metrics";
import { validateRepeat, validateSteps } from "./escalation-policies";
import type { EscalationPolicyRepository, PolicyDefinition } from "./repository";
import { fromListRow, toMessage } from "./to-message";

function definitionOf(req: { name: string; steps: { channels: string[]; waitSeconds: number }[]; repeatCount: number; tags: Record<string, string> }): PolicyDefinition {
  return { name: requiredText(req.name, "name"), steps: validateSteps(req.steps), repeatCount: validateRepeat(req.repeatCount), tags: validateTags(req.tags) };
}

export function escalationPolicyHandlers(repo: EscalationPolicyRepository): ServiceImpl<typeof EscalationPolicyService> {
  const load = async (ctx: HandlerContext, id: string) => {
    const caller = callerOf(ctx);
    const policyId = requiredId(id, "escalation_policy_id");
    const row = await repo.get(tenantScope(caller), policyId);
    if (!row) throw notFound("Escalation policy not found", { escalation_policy_id: policyId });
    return { caller, row };
  };
  return {
    async create(req, ctx) {
      const caller = callerOf(ctx);
      const definition = definitionOf(req);
      const workspaceId = writeWorkspace(caller, req.workspaceId);
      return { escalationPolicy: toMessage(await repo.create(caller.domainId, workspaceId, definition)) };
    },
    async update(req, ctx) {
      const { caller, row } = await load(ctx, req.escalationPolicyId);
      requireRowWrite(caller, row.workspaceId);
      return { escalationPolicy: toMessage(await repo.update(row, definitionOf(req))) };
    },
    async get(req, ctx) {
      return { escalationPolicy: toMessage((await load(ctx, req.escalationPolicyId)).row) };
    },
    async list(req, ctx) {
      const { results, total_count } = await repo.list(tenantScope(callerOf(ctx)), req.query ?? {});
      return { results: results.map(fromListRow), totalCount: total_count };
    },
    async delete(req, ctx) {
      const { caller, row } = await load(ctx, req.escalationPolicyId);
      requireRowWrite(caller, row.workspaceId);
      if (!(await repo.delete(row))) throw notFound("Escalation policy not found", { escalation_policy_id: row.escalationPolicyId });
      return {};
    },
  };
}
