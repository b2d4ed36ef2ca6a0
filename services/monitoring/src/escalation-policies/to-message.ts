import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { EscalationPolicyRow, EscalationStep } from "../db/schema";

const steps = (value: EscalationStep[] | undefined) => value?.map((s) => ({ channels: s.channels, waitSeconds: s.wait_seconds }));

export function toMessage(row: EscalationPolicyRow) {
  return {
    escalationPolicyId: row.escalationPolicyId,
    name: row.name,
    steps: steps(row.steps),
    repeatCount: row.repeatCount,
    tags: row.tags,
    domainId: row.domainId,
    workspaceId: row.workspaceId,
    createdAt: timestampFromDate(row.createdAt),
    updatedAt: timestampFromDate(row.updatedAt),
  };
}

/** A List result: the query language keys rows by field name, trimmed by `only`. */
export function fromListRow(row: Record<string, unknown>) {
  const date = (v: unknown) => (v instanceof Date ? timestampFromDate(v) : undefined);
  return {
    escalationPolicyId: row.escalation_policy_id as string | undefined,
    name: row.name as string | undefined,
    steps: steps(row.steps as EscalationStep[] | undefined),
    repeatCount: row.repeat_count as number | undefined,
    tags: row.tags as Record<string, string> | undefined,
    domainId: row.domain_id as string | undefined,
    workspaceId: row.workspace_id as string | undefined,
    createdAt: date(row.created_at),
    updatedAt: date(row.updated_at),
  };
}
