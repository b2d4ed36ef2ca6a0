import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { Recurrence_ScheduleType, RecurrentRequest_Status } from "@cloudforet/proto/cloudforet/orchestration/v1/recurrent_request_pb";
import type { RecurrentRequestRow } from "../db/schema";
import { ts } from "../grpc/grpc-mapping";
import { recurrenceOfRow } from "./recurrent-requests";

export function recurrentMessage(row: RecurrentRequestRow) {
  const r = recurrenceOfRow(row);
  const target = row.target as { url?: string; rpc?: string; method?: string; headers?: Record<string, string>; json?: JsonValue; sealed_headers?: string[]; run_as_workspace_id?: string };
  return {
    id: row.id,
    tenantId: row.tenantId,
    name: row.name,
    recurrence:
      r.scheduleType === "interval"
        ? { scheduleType: Recurrence_ScheduleType.INTERVAL, intervalSeconds: r.intervalSeconds }
        : { scheduleType: Recurrence_ScheduleType.CRON, cronExpression: r.cronExpression, timezone: r.timezone },
    target: {
      url: target.url ?? "",
      rpc: target.rpc ?? "",
      method: target.method ?? "",
      headers: target.headers ?? {},
      json: target.json === undefined ? undefined : fromJson(ValueSchema, target.json),
      sealedHeaders: target.sealed_headers ?? [],
      runAsWorkspaceId: target.run_as_workspace_id ?? "",
    },
    status: row.status === "paused" ? RecurrentRequest_Status.PAUSED : RecurrentRequest_Status.ACTIVE,
    nextRunAt: ts(row.nextRunAt),
    lastRunAt: ts(row.lastRunAt),
    lastInstanceId: row.lastInstanceId ?? "",
    runCount: row.runCount,
    createdAt: ts(row.createdAt),
    updatedAt: ts(row.updatedAt),
  };
}
