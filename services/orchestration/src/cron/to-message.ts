import type { JsonObject } from "@bufbuild/protobuf";
import type { CronScheduleRow } from "../db/schema";
import { ts } from "../grpc/grpc-mapping";

export function cronMessage(row: CronScheduleRow) {
  return {
    id: row.id,
    tenantId: row.tenantId,
    namespace: row.namespace,
    sequenceId: row.sequenceId,
    cronExpr: row.cronExpr,
    timezone: row.timezone,
    enabled: row.enabled,
    metadata: row.metadata as JsonObject,
    lastTriggeredAt: ts(row.lastTriggeredAt),
    nextFireAt: ts(row.nextFireAt),
    createdAt: ts(row.createdAt),
    updatedAt: ts(row.updatedAt),
  };
}
