import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { illegalTransition, invalidParameter, notFound } from "@cloudforet/errors";
import { AlertService } from "@cloudforet/proto/cloudforet/monitoring/v1/alert_pb";
import { tenantScope } from "@cloudforet/query";
import { callerOf } from "@cloudforet/runtime";
import type { AlertComment } from "../db/schema";
import type { EscalationPolicyRepository } from "../escalation-policies/repository";
import { writeWorkspace } from "../metrics/metrics";
import { channelList, optionalText, requireRowWrite, requiredId, requiredText } from "./alert-fields";
import { MAX_COMMENT, MAX_COMMENTS } from "./alerts";
import type { AlertRepository } from "./repository";
import { fromListRow, toMessage, webhookKeyMessage } from "./to-message";
import type { WebhookKeyRepository } from "./webhook-keys";

export interface AlertHandlerDeps {
  alerts: AlertRepository;
  webhookKeys: WebhookKeyRepository;
  policies: EscalationPolicyRepository;
  /** A resolution (or another change) makes a notice due now. */
  wake(): void;
}

export function alertHandlers({ alerts, webhookKeys, policies, wake }: AlertHandlerDeps): ServiceImpl<typeof AlertService> {
  const load = async (ctx: HandlerContext, id: string, write = false) => {
    const caller = callerOf(ctx);
    const alertId = requiredId(id, "alert_id");
    const row = await alerts.get(tenantScope(caller), alertId);
    if (!row) throw notFound("Alert not found", { alert_id: alertId });
    if (write) requireRowWrite(caller, row.workspaceId);
    return { caller, row };
  };
  const comment = (text: string, author: string): AlertComment => ({ text, author, created_at: new Date().toISOString() });

  return {
    async get(req, ctx) {
      return { alert: toMessage((await load(ctx, req.alertId)).row) };
    },

    async list(req, ctx) {
      const { results, total_count } = await alerts.list(tenantScope(callerOf(ctx)), req.query ?? {});
      return { results: results.map(fromListRow), totalCount: total_count };
    },

    async acknowledge(req, ctx) {
      const { caller, row } = await load(ctx, req.alertId, true);
      if (row.state === "RESOLVED") throw illegalTransition("A resolved alert cannot be acknowledged", { alert_id: row.alertId, state: row.state });
      if (row.state === "ACKNOWLEDGED") return { alert: toMessage(row) };
      const updated = await alerts.acknowledge(row.alertId, caller.userId);
      if (!updated) throw illegalTransition("The alert was resolved meanwhile", { alert_id: row.alertId });
      return { alert: toMessage(updated) };
    },

    async assign(req, ctx) {
      const assignee = optionalText(req.assignee.trim(), "assignee", 128);
      const { row } = await load(ctx, req.alertId, true);
      return { alert: toMessage(await alerts.assign(row.alertId, assignee)) };
    },

    async resolve(req, ctx) {
      const note = optionalText(req.note.trim(), "note", MAX_COMMENT);
      const { caller, row } = await load(ctx, req.alertId, true);
      if (row.state === "RESOLVED") throw illegalTransition("The alert is already resolved", { alert_id: row.alertId });
      const resolved = await alerts.resolve(row.alertId, caller.userId, note ? comment(note, caller.userId) : undefined);
      if (!resolved) throw illegalTransition("The alert is already resolved", { alert_id: row.alertId });
      wake();
      return { alert: toMessage(resolved) };
    },

    async comment(req, ctx) {
      const text = requiredText(req.text, "text", MAX_COMMENT);
      const { caller, row } = await load(ctx, req.alertId, true);
      const updated = await alerts.comment(row.alertId, comment(text, caller.userId), MAX_COMMENTS);
      if (!updated) throw invalidParameter(`an alert holds at most ${MAX_COMMENTS} comments`, { parameter: "text", alert_id: row.alertId });
      return { alert: toMessage(updated) };
    },

    async createWebhookKey(req, ctx) {
      const caller = callerOf(ctx);
      const name = requiredText(req.name, "name");
      const channels = channelList(req.channels);
      const escalationPolicyId = req.escalationPolicyId ? requiredId(req.escalationPolicyId, "escalation_policy_id") : "";
      if (channels.length > 0 && escalationPolicyId) throw invalidParameter("set channels or escalation_policy_id, not both", { parameter: "escalation_policy_id" });
      const workspaceId = writeWorkspace(caller, req.workspaceId);
      if (escalationPolicyId && !(await policies.get(tenantScope(caller), escalationPolicyId))) {
        throw notFound("Escalation policy not found", { escalation_policy_id: escalationPolicyId });
      }
      const { row, key } = await webhookKeys.create({ domainId: caller.domainId, workspaceId, name, channels, escalationPolicyId });
      return { webhookKey: webhookKeyMessage(row, key) };
    },

    async listWebhookKeys(req, ctx) {
      const { results, total_count } = await webhookKeys.list(tenantScope(callerOf(ctx)), req.query ?? {});
      return { results: results.map((r) => webhookKeyMessage(r)), totalCount: total_count };
    },

    async deleteWebhookKey(req, ctx) {
      const caller = callerOf(ctx);
      const id = requiredId(req.webhookKeyId, "webhook_key_id");
      const row = await webhookKeys.get(tenantScope(caller), id);
      if (!row) throw notFound("Webhook key not found", { webhook_key_id: id });
      requireRowWrite(caller, row.workspaceId);
      await webhookKeys.delete(row);
      return {};
    },
  };
}
