import { create, type JsonValue } from "@bufbuild/protobuf";
import { ValueSchema, timestampFromDate, type Value } from "@bufbuild/protobuf/wkt";
import { fromJson } from "@bufbuild/protobuf";
import {
  RequestLogMode_Mode,
  RequestLogSchema,
  RequestLoggingStatusSchema,
  type RequestLog,
  type RequestLoggingStatus,
} from "@cloudforet/proto/cloudforet/identity/v1/request_log_pb";
import type { RequestLogRow } from "../db/schema";
import type { LoggingStatus } from "./request-logs";
import type { RequestLogListRow } from "./repository";

export function statusMessage(status: LoggingStatus): RequestLoggingStatus {
  return create(RequestLoggingStatusSchema, {
    enabled: status.enabled,
    mode: RequestLogMode_Mode[status.mode],
    callerType: status.callerType,
    callerId: status.callerId,
    domainId: status.domainId,
    updatedAt: status.updatedAt ? timestampFromDate(status.updatedAt) : undefined,
  });
}

export function toMessage(row: RequestLogListRow): RequestLog {
  return create(RequestLogSchema, {
    requestLogId: row.requestLogId,
    requestId: row.requestId,
    service: row.service,
    path: row.path,
    status: row.status,
    code: row.code,
    errorType: row.errorType,
    errorSource: row.errorSource,
    errorMessage: row.errorMessage,
    durationMs: row.durationMs,
    userId: row.userId,
    apiKeyId: row.apiKeyId,
    workspaceId: row.workspaceId,
    domainId: row.domainId,
    mode: RequestLogMode_Mode[row.mode],
    truncated: row.truncated,
    eventTimestamp: timestampFromDate(row.eventTimestamp),
  });
}

/** A stored body (JSON, or a string preview) as a google.protobuf.Value; unset when none was stored. */
export function bodyValue(body: RequestLogRow["requestBody"]): Value | undefined {
  if (body === null || body === undefined) return undefined;
  return fromJson(ValueSchema, body as JsonValue);
}
