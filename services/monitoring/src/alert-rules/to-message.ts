import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { AlertRule_Aggregation, AlertRule_Comparison, AlertRule_Severity, AlertRuleSeries_State } from "@cloudforet/proto/cloudforet/monitoring/v1/alert_rule_pb";
import type { Aggregation, AlertRuleRow, AlertRuleSeriesRow, AlertSeverity, Comparison } from "../db/schema";

const date = (v: unknown) => (v instanceof Date ? timestampFromDate(v) : undefined);

export function toMessage(row: AlertRuleRow) {
  return fromListRow({
    alert_rule_id: row.alertRuleId,
    name: row.name,
    description: row.description,
    metric_name: row.metricName,
    resource_ids: row.resourceIds,
    dimensions: row.dimensions,
    group_by: row.groupBy,
    aggregation: row.aggregation,
    window_seconds: row.windowSeconds,
    comparison: row.comparison,
    threshold: row.threshold,
    for_seconds: row.forSeconds,
    interval_seconds: row.intervalSeconds,
    severity: row.severity,
    labels: row.labels,
    channels: row.channels,
    escalation_policy_id: row.escalationPolicyId,
    enabled: row.enabled,
    next_evaluation_at: row.nextEvaluationAt,
    domain_id: row.domainId,
    workspace_id: row.workspaceId,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
  });
}

/** A List result: the query language keys rows by field name, trimmed by `only`. */
export function fromListRow(row: Record<string, unknown>) {
  return {
    alertRuleId: row.alert_rule_id as string | undefined,
    name: row.name as string | undefined,
    description: row.description as string | undefined,
    metricName: row.metric_name as string | undefined,
    resourceIds: row.resource_ids as string[] | undefined,
    dimensions: row.dimensions as Record<string, string> | undefined,
    groupBy: row.group_by as string[] | undefined,
    aggregation: typeof row.aggregation === "string" ? AlertRule_Aggregation[row.aggregation as Aggregation] : undefined,
    windowSeconds: row.window_seconds as number | undefined,
    comparison: typeof row.comparison === "string" ? AlertRule_Comparison[row.comparison as Comparison] : undefined,
    threshold: row.threshold as number | undefined,
    forSeconds: row.for_seconds as number | undefined,
    intervalSeconds: row.interval_seconds as number | undefined,
    severity: typeof row.severity === "string" ? AlertRule_Severity[row.severity as AlertSeverity] : undefined,
    labels: row.labels as Record<string, string> | undefined,
    channels: row.channels as string[] | undefined,
    escalationPolicyId: row.escalation_policy_id as string | undefined,
    enabled: row.enabled as boolean | undefined,
    nextEvaluationAt: date(row.next_evaluation_at),
    domainId: row.domain_id as string | undefined,
    workspaceId: row.workspace_id as string | undefined,
    createdAt: date(row.created_at),
    updatedAt: date(row.updated_at),
  };
}

export function seriesMessage(row: AlertRuleSeriesRow) {
  return {
    alertRuleId: row.alertRuleId,
    labels: row.labels,
    state: AlertRuleSeries_State[row.state],
    value: row.value ?? 0,
    pendingSince: date(row.pendingSince),
    firingSince: date(row.firingSince),
    alertId: row.alertId ?? "",
    evaluatedAt: date(row.evaluatedAt),
  };
}
