import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ScheduleFire_Outcome } from "@cloudforet/proto/cloudforet/inventory/v1/collector_pb";

const at = (value: unknown) => (value instanceof Date ? timestampFromDate(value) : undefined);

/** A ListScheduleFires result (the query language's projection; absent fields stay unset). */
export function scheduleFireListMessage(row: Record<string, unknown>) {
  return {
    fireId: row.fire_id as string | undefined,
    collectorId: row.collector_id as string | undefined,
    scheduledAt: at(row.scheduled_at),
    outcome: typeof row.outcome === "string" ? ScheduleFire_Outcome[row.outcome as keyof typeof ScheduleFire_Outcome] : undefined,
    jobId: row.job_id as string | undefined,
    reason: row.reason as string | undefined,
    workspaceId: row.workspace_id as string | undefined,
    domainId: row.domain_id as string | undefined,
    createdAt: at(row.created_at),
  };
}
