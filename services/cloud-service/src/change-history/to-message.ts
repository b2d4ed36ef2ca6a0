import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { timestampFromDate, ValueSchema } from "@bufbuild/protobuf/wkt";
import type { ChangeDiff } from "../db/schema";

const at = (value: unknown) => {
  if (value instanceof Date) return timestampFromDate(value);
  if (typeof value === "string" && value) return timestampFromDate(new Date(value));
  return undefined;
};

const valueOf = (value: unknown) => (value === undefined ? undefined : fromJson(ValueSchema, value as JsonValue));

function diffMessage(diff: unknown) {
  if (!Array.isArray(diff)) return [];
  return (diff as ChangeDiff[]).map((change) => ({ key: change.key, before: valueOf(change.before ?? null), after: valueOf(change.after ?? null) }));
}

/** A change (a row, or a List result keyed by field name with only the fields asked for). */
export function changeMessage(row: Record<string, unknown>) {
  const text = (key: string) => row[key] as string | undefined;
  return {
    changeId: text("change_id"),
    cloudServiceId: text("cloud_service_id"),
    action: text("action"),
    diff: diffMessage(row.diff),
    diffCount: row.diff_count as number | undefined,
    updatedBy: text("updated_by"),
    authorId: text("author_id"),
    userId: text("user_id"),
    collectorId: text("collector_id"),
    jobId: text("job_id"),
    jobTaskId: text("job_task_id"),
    collectorRuleId: text("collector_rule_id"),
    workspaceId: text("workspace_id"),
    domainId: text("domain_id"),
    createdAt: at(row.created_at),
  };
}
