import { invalidParameter, notFound } from "@cloudforet/errors";
import { callerSwitch, type RequestLogRecordData } from "@cloudforet/runtime";
import type { Access } from "../access/access";
import type { RequestLoggingSwitchRow, RequestLogRow } from "../db/schema";
import { required } from "../fields/field-rules";
import type { LogMode, RecordFilter, RecordOwner, RequestLogListRow, RequestLogRepository } from "./repository";

/** List's page size bounds and default (seed 001). */
export const LIST_LIMIT = { min: 1, max: 200, default: 50 } as const;
/** The status range a filter may name (HTTP-style statuses, SPEC §3). */
const STATUS = { min: 100, max: 599 } as const;
/** List's time window when the request names neither end. */
export const DEFAULT_WINDOW_MS = 24 * 3_600_000;
const ERROR_SOURCES = new Set(["caller", "server"]);

export interface LoggingStatus {
  enabled: boolean;
  mode: LogMode;
  callerType: "USER" | "API_KEY";
  callerId: string;
  domainId: string;
  updatedAt?: Date;
}

export interface ListInput {
  skip: number;
  limit?: number;
  service: string;
  statusMin?: number;
  statusMax?: number;
  startTime?: Date;
  endTime?: Date;
  path: string;
  errorSource: string;
  errorType: string;
}

/**
 * Request logging of the caller itself (seed 001 "RequestLogs"): every caller turns its own logging on
 * and off and reads only its own records. A user's records include the calls made with its API keys;
 * an API key reads only the calls made with it. Another caller's record answers NOT_FOUND.
 */
export class RequestLogRules {
  constructor(private readonly logs: RequestLogRepository) {}

  /** `truncate` true: TRUNCATED; false: COMPLETE; undefined: the caller's earlier mode, else TRUNCATED. */
  async start(access: Access, truncate: boolean | undefined): Promise<LoggingStatus> {
    const { callerType, callerId } = callerSwitch(access.caller);
    const mode = truncate === undefined ? undefined : truncate ? "TRUNCATED" : "COMPLETE";
    return toStatus(await this.logs.setSwitch(access.domainId, callerType, callerId, true, mode));
  }

  async stop(access: Access): Promise<LoggingStatus> {
    const { callerType, callerId } = callerSwitch(access.caller);
    return toStatus(await this.logs.setSwitch(access.domainId, callerType, callerId, false, undefined));
  }

  async status(access: Access): Promise<LoggingStatus> {
    const { callerType, callerId } = callerSwitch(access.caller);
    const row = await this.logs.getSwitch(access.domainId, callerType, callerId);
    return row ? toStatus(row) : { enabled: false, mode: "TRUNCATED", callerType, callerId, domainId: access.domainId };
  }

  async list(access: Access, input: ListInput, now = new Date()): Promise<{ rows: RequestLogListRow[]; total: number }> {
    if (!Number.isInteger(input.skip) || input.skip < 0) throw invalidParameter("skip must be 0 or more", { parameter: "skip", value: input.skip });
    const limit = input.limit ?? LIST_LIMIT.default;
    if (limit < LIST_LIMIT.min || limit > LIST_LIMIT.max) {
      throw invalidParameter(`limit must be between ${LIST_LIMIT.min} and ${LIST_LIMIT.max}`, { parameter: "limit", value: limit });
    }
    for (const [parameter, value] of [["status_min", input.statusMin], ["status_max", input.statusMax]] as const) {
      if (value !== undefined && (value < STATUS.min || value > STATUS.max)) {
        throw invalidParameter(`${parameter} must be between ${STATUS.min} and ${STATUS.max}`, { parameter, value });
      }
    }
    if (input.statusMin !== undefined && input.statusMax !== undefined && input.statusMin > input.statusMax) {
      throw invalidParameter("status_min must not exceed status_max", { parameter: "status_min", value: input.statusMin });
    }
    if (input.errorSource && !ERROR_SOURCES.has(input.errorSource)) {
      throw invalidParameter('error_source must be "caller" or "server"', { parameter: "error_source", value: input.errorSource });
    }
    const filter: RecordFilter = {
      ...timeWindow(input.startTime, input.endTime, now),
      service: input.service || undefined,
      statusMin: input.statusMin,
      statusMax: input.statusMax,
      pathPrefix: input.path || undefined,
      errorSource: input.errorSource || undefined,
      errorType: input.errorType || undefined,
    };
    return this.logs.list(ownerOf(access), filter, input.skip, limit);
  }

  async get(access: Access, requestLogId: string): Promise<RequestLogRow> {
    required(requestLogId, "request_log_id");
    const row = await this.logs.get(ownerOf(access), requestLogId);
    if (!row) throw notFound("Request log not found", { request_log_id: requestLogId });
    return row;
  }

  /** Stores one record published by a service's request-log interceptor (at least once: the event id dedupes). */
  async store(eventId: string, record: RequestLogRecordData): Promise<void> {
    const at = new Date(record.at);
    await this.logs.insert({
      requestLogId: `reqlog-${eventId}`,
      domainId: record.domain_id,
      userId: record.user_id,
      apiKeyId: record.api_key_id ?? "",
      requestId: record.request_id,
      service: record.service,
      path: record.path,
      status: record.status,
      code: record.code,
      errorType: record.error_type ?? "",
      errorSource: record.error_source ?? "",
      errorMessage: record.error_message ?? "",
      durationMs: record.duration_ms,
      workspaceId: record.workspace_id ?? "",
      mode: record.mode === "COMPLETE" ? "COMPLETE" : "TRUNCATED",
      truncated: record.truncated === true,
      requestBody: record.request_body ?? null,
      responseBody: record.response_body ?? null,
      eventTimestamp: Number.isNaN(at.getTime()) ? new Date() : at,
    });
  }

  /** Deletes records older than the retention period; returns how many. */
  prune(retentionDays: number, now = new Date()): Promise<number> {
    return this.logs.pruneBefore(new Date(now.getTime() - retentionDays * 24 * 3_600_000));
  }
}

const ownerOf = (access: Access): RecordOwner => ({ domainId: access.domainId, userId: access.userId, apiKeyId: access.caller.apiKeyId });

function timeWindow(startTime: Date | undefined, endTime: Date | undefined, now: Date): { startTime: Date; endTime: Date } {
  for (const [parameter, value] of [["start_time", startTime], ["end_time", endTime]] as const) {
    if (value && Number.isNaN(value.getTime())) throw invalidParameter(`${parameter} is not a valid time`, { parameter });
  }
  if (!startTime && !endTime) return { startTime: new Date(now.getTime() - DEFAULT_WINDOW_MS), endTime: now };
  const window = { startTime: startTime ?? new Date(0), endTime: endTime ?? now };
  if (window.startTime > window.endTime) throw invalidParameter("start_time must not be after end_time", { parameter: "start_time" });
  return window;
}

function toStatus(row: RequestLoggingSwitchRow): LoggingStatus {
  return { enabled: row.enabled, mode: row.mode, callerType: row.callerType, callerId: row.callerId, domainId: row.domainId, updatedAt: row.updatedAt };
}
