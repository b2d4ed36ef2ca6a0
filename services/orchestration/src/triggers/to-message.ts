import { Trigger_TriggerType } from "@cloudforet/proto/cloudforet/orchestration/v1/trigger_pb";
import type { TriggerRow } from "../db/schema";
import { ts } from "../grpc/grpc-mapping";

export function triggerMessage(row: TriggerRow) {
  return {
    slug: row.slug,
    tenantId: row.tenantId,
    namespace: row.namespace,
    sequenceId: row.sequenceId ?? "",
    sequenceName: row.sequenceName,
    enabled: row.enabled,
    triggerType: row.triggerType === "webhook" ? Trigger_TriggerType.WEBHOOK : Trigger_TriggerType.EVENT,
    createdAt: ts(row.createdAt),
    updatedAt: ts(row.updatedAt),
  };
}
