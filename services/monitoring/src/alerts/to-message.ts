import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Alert_Severity, Alert_Source, Alert_State } from "@cloudforet/proto/cloudforet/monitoring/v1/alert_pb";
import type { AlertComment, AlertRow, AlertSeverity, AlertSource, AlertState, AlertWebhookKeyRow } from "../db/schema";

const date = (v: unknown) => (v instanceof Date ? timestampFromDate(v) : undefined);
const comments = (value: AlertComment[] | undefined) =>
  value?.map((c) => ({ text: c.text, author: c.author, createdAt: timestampFromDate(new Date(c.created_at)) }));

export function toMessage(row: AlertRow) {
  return fromListRow({
    alert_id: row.alertId,
    fingerprint: row.fingerprint,
    title: row.title,
    description: row.description,
    state: row.state,
    severity: row.severity,
    source: row.source,
    labels: row.labels,
    annotations: row.annotations,
    alert_rule_id: row.alertRuleId,
    resource_id: row.resourceId,
    value: row.value,
    starts_at: row.startsAt,
    ends_at: row.endsAt,
    acknowledged_by: row.acknowledgedBy,
    acknowledged_at: row.acknowledgedAt,
    assignee: row.assignee,
    resolved_by: row.resolvedBy,
    comments: row.comments,
    silenced: row.silenced,
    escalation_policy_id: row.escalationPolicyId,
    escalation_step: row.escalationStep,
    domain_id: row.domainId,
    workspace_id: row.workspaceId,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
  });
}

/** A List result: the query language keys rows by field name, trimmed by `only`. */
export function fromListRow(row: Record<string, unknown>) {
  return {
    alertId: row.alert_id as string | undefined,
    fingerprint: row.fingerprint as string | undefined,
    title: row.title as string | undefined,
    description: row.description as string | undefined,
    state: typeof row.state === "string" ? Alert_State[row.state as AlertState] : undefined,
    severity: typeof row.severity === "string" ? Alert_Severity[row.severity as AlertSeverity] : undefined,
    source: typeof row.source === "string" ? Alert_Source[row.source as AlertSource] : undefined,
    labels: row.labels as Record<string, string> | undefined,
    annotations: row.annotations as Record<string, string> | undefined,
    alertRuleId: row.alert_rule_id as string | undefined,
    resourceId: row.resource_id as string | undefined,
    value: (row.value as number | null | undefined) ?? undefined,
    startsAt: date(row.starts_at),
    endsAt: date(row.ends_at),
    acknowledgedBy: row.acknowledged_by as string | undefined,
    acknowledgedAt: date(row.acknowledged_at),
    assignee: row.assignee as string | undefined,
    resolvedBy: row.resolved_by as string | undefined,
    comments: comments(row.comments as AlertComment[] | undefined),
    silenced: row.silenced as boolean | undefined,
    escalationPolicyId: row.escalation_policy_id as string | undefined,
    escalationStep: row.escalation_step as number | undefined,
    domainId: row.domain_id as string | undefined,
    workspaceId: row.workspace_id as string | undefined,
    createdAt: date(row.created_at),
    updatedAt: date(row.updated_at),
  };
}

/** A webhook key; `key` only in CreateWebhookKey's answer. */
export function webhookKeyMessage(row: Partial<AlertWebhookKeyRow> & Record<string, unknown>, key = "") {
  return {
    webhookKeyId: (row.webhookKeyId ?? row.webhook_key_id) as string | undefined,
    name: row.name,
    key,
    channels: row.channels as string[] | undefined,
    escalationPolicyId: (row.escalationPolicyId ?? row.escalation_policy_id) as string | undefined,
    domainId: (row.domainId ?? row.domain_id) as string | undefined,
    workspaceId: (row.workspaceId ?? row.workspace_id) as string | undefined,
    createdAt: date(row.createdAt ?? row.created_at),
  };
}
