import { invalidParameter } from "@cloudforet/errors";
import { validateTags } from "@cloudforet/query";
import { AlertRule_Aggregation, AlertRule_Comparison, AlertRule_Severity } from "@cloudforet/proto/cloudforet/monitoring/v1/alert_rule_pb";
import type { Aggregation, AlertSeverity, Comparison } from "../db/schema";
import { channelList, optionalText, requiredText } from "../alerts/alert-fields";
import { metricNameProblem, problemError } from "../metrics/metrics";

const MAX_SECONDS = 86_400;
const MAX_RESOURCES = 100;
const MAX_GROUP_BY = 10;
const dimensionKeyPattern = /^[\w.:/-]{1,128}$/;

/** What a rule is, once checked. */
export interface RuleDefinition {
  name: string;
  description: string;
  metricName: string;
  resourceIds: string[];
  dimensions: Record<string, string>;
  groupBy: string[];
  aggregation: Aggregation;
  windowSeconds: number;
  comparison: Comparison;
  threshold: number;
  forSeconds: number;
  intervalSeconds: number;
  severity: AlertSeverity;
  labels: Record<string, string>;
  channels: string[];
  escalationPolicyId: string;
  enabled: boolean;
}

/** A Create or Update request's definition fields. */
export interface RuleInput {
  name: string;
  description: string;
  metricName: string;
  resourceIds: string[];
  dimensions: Record<string, string>;
  groupBy: string[];
  aggregation: AlertRule_Aggregation;
  windowSeconds: number;
  comparison: AlertRule_Comparison;
  threshold: number;
  forSeconds: number;
  intervalSeconds: number;
  severity: AlertRule_Severity;
  labels: Record<string, string>;
  channels: string[];
  escalationPolicyId: string;
  enabled?: boolean;
}

function seconds(value: number, parameter: string, min: number, fallback?: number): number {
  if (value === 0 && fallback !== undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > MAX_SECONDS) {
    throw invalidParameter(`${parameter} must be ${min} to ${MAX_SECONDS} seconds`, { parameter, value });
  }
  return value;
}

/** Checks a rule in field order; ERROR_INVALID_PARAMETER names the first field at fault. */
export function validateRule(input: RuleInput): RuleDefinition {
  const name = requiredText(input.name, "name");
  const description = optionalText(input.description, "description", 2000);
  const nameProblem = metricNameProblem(input.metricName);
  if (nameProblem) throw problemError(nameProblem);
  if (input.resourceIds.length > MAX_RESOURCES) throw invalidParameter("at most 100 resource_ids", { parameter: "resource_ids", value: input.resourceIds.length });
  input.resourceIds.forEach((id, i) => requiredText(id, `resource_ids[${i}]`));
  const dimensions = validateTags(input.dimensions, "dimensions");
  for (const key of Object.keys(dimensions)) {
    if (!dimensionKeyPattern.test(key)) throw invalidParameter("dimension keys are 1-128 of letters, digits, _ . : / -", { parameter: "dimensions", value: key });
  }
  if (input.groupBy.length > MAX_GROUP_BY) throw invalidParameter("at most 10 group_by keys", { parameter: "group_by", value: input.groupBy.length });
  input.groupBy.forEach((key, i) => {
    if (!dimensionKeyPattern.test(key) || key === "resource_id") throw invalidParameter("group_by keys are dimension keys (resource_id always splits series)", { parameter: `group_by[${i}]`, value: key });
  });
  const aggregation = input.aggregation === AlertRule_Aggregation.NONE ? undefined : (AlertRule_Aggregation[input.aggregation] as Aggregation | undefined);
  if (!aggregation) throw invalidParameter("aggregation must be AVG, MIN, MAX, SUM, COUNT or RATE", { parameter: "aggregation", value: input.aggregation });
  const windowSeconds = seconds(input.windowSeconds, "window_seconds", 1, 300);
  const comparison = input.comparison === AlertRule_Comparison.UNSET ? undefined : (AlertRule_Comparison[input.comparison] as Comparison | undefined);
  if (!comparison) throw invalidParameter("comparison must be GT, GTE, LT, LTE, EQ or NE", { parameter: "comparison", value: input.comparison });
  if (!Number.isFinite(input.threshold)) throw invalidParameter("threshold must be a finite number", { parameter: "threshold", value: String(input.threshold) });
  const forSeconds = seconds(input.forSeconds, "for_seconds", 0);
  const intervalSeconds = seconds(input.intervalSeconds, "interval_seconds", 1, 60);
  const severity: AlertSeverity | undefined = input.severity === AlertRule_Severity.DEFAULT ? "WARNING" : (AlertRule_Severity[input.severity] as AlertSeverity | undefined);
  if (!severity) throw invalidParameter("severity must be INFO, WARNING, ERROR or CRITICAL", { parameter: "severity", value: input.severity });
  const labels = validateTags(input.labels, "labels");
  const channels = channelList(input.channels);
  const escalationPolicyId = input.escalationPolicyId ? requiredText(input.escalationPolicyId, "escalation_policy_id", 128) : "";
  if (channels.length > 0 && escalationPolicyId) throw invalidParameter("set channels or escalation_policy_id, not both", { parameter: "escalation_policy_id" });
  return {
    name,
    description,
    metricName: input.metricName,
    resourceIds: [...new Set(input.resourceIds)],
    dimensions,
    groupBy: [...new Set(input.groupBy)],
    aggregation,
    windowSeconds,
    comparison,
    threshold: input.threshold,
    forSeconds,
    intervalSeconds,
    severity,
    labels,
    channels,
    escalationPolicyId,
    enabled: input.enabled ?? true,
  };
}

/** Whether `value` meets the rule's condition. */
export function conditionHolds(comparison: Comparison, value: number, threshold: number): boolean {
  switch (comparison) {
    case "GT":
      return value > threshold;
    case "GTE":
      return value >= threshold;
    case "LT":
      return value < threshold;
    case "LTE":
      return value <= threshold;
    case "EQ":
      return value === threshold;
    case "NE":
      return value !== threshold;
  }
}
