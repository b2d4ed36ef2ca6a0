import { toJson, type JsonValue } from "@bufbuild/protobuf";
import { ValueSchema, timestampFromDate, type Value } from "@bufbuild/protobuf/wkt";
import {
  RequestLogMode_Mode,
  RequestLogService,
  type RequestLog,
  type RequestLoggingStatus,
} from "@cloudforet/proto/cloudforet/identity/v1/request_log_pb";
import type { RequestOptions, ServiceCaller } from "../rpc";

/** Seed 001's `list` keywords, camelCased. Times are Dates; both unset means the last 24 hours. */
export interface RequestLogFilter {
  skip?: number;
  /** 1–200, default 50. */
  limit?: number;
  /** Only this service's calls ("inventory"). */
  service?: string;
  /** Status range (100–599), inclusive: 200 for a successful call, else its error's HTTP status. */
  statusMin?: number;
  statusMax?: number;
  startTime?: Date;
  endTime?: Date;
  /** Path prefix, e.g. "/cloudforet.inventory.v1.CollectorService/". */
  userRequestPath?: string;
  /** "caller" or "server". */
  errorSource?: string;
  /** e.g. "ERROR_NOT_FOUND". */
  errorType?: string;
}

export interface RequestLogList {
  results: RequestLog[];
  totalCount: number;
}

/** One record with its bodies as plain JSON (a string preview when the record was truncated). */
export interface RequestLogDetail {
  log: RequestLog;
  requestBody: JsonValue | undefined;
  responseBody: JsonValue | undefined;
}

export { RequestLogMode_Mode as RequestLogMode };

/**
 * The caller's request log (seed 001 `client.request_logs`, identity's RequestLogService): turn
 * logging on or off for the user (or the API key) the client logs in as, and read the records.
 */
export class RequestLogs {
  constructor(private readonly rpc: ServiceCaller<typeof RequestLogService>) {}

  /**
   * Turns logging on. `truncateLongMessage` true keeps an 8 KB preview of long bodies, false keeps
   * them whole; unset keeps the earlier choice (truncated for a first start). Idempotent.
   */
  async start(options: { truncateLongMessage?: boolean } = {}, request?: RequestOptions): Promise<RequestLoggingStatus> {
    const r = await this.rpc.call((c, o) => c.start({ truncateLongMessage: options.truncateLongMessage }, o), request);
    return required(r.status);
  }

  /** Turns logging off; stored records stay readable. Idempotent. */
  async stop(request?: RequestOptions): Promise<RequestLoggingStatus> {
    return required((await this.rpc.call((c, o) => c.stop({}, o), request)).status);
  }

  async status(request?: RequestOptions): Promise<RequestLoggingStatus> {
    return required((await this.rpc.call((c, o) => c.getStatus({}, o), request)).status);
  }

  /** Records newest first, without bodies. */
  async list(filter: RequestLogFilter = {}, request?: RequestOptions): Promise<RequestLogList> {
    const r = await this.rpc.call(
      (c, o) =>
        c.list(
          {
            skip: filter.skip ?? 0,
            limit: filter.limit,
            service: filter.service ?? "",
            statusMin: filter.statusMin,
            statusMax: filter.statusMax,
            startTime: filter.startTime ? timestampFromDate(filter.startTime) : undefined,
            endTime: filter.endTime ? timestampFromDate(filter.endTime) : undefined,
            path: filter.userRequestPath ?? "",
            errorSource: filter.errorSource ?? "",
            errorType: filter.errorType ?? "",
          },
          o,
        ),
      request,
    );
    return { results: r.results, totalCount: r.totalCount };
  }

  /** One record with its request and response bodies (secrets redacted by the platform). */
  async get(requestLogId: string, request?: RequestOptions): Promise<RequestLogDetail> {
    const r = await this.rpc.call((c, o) => c.get({ requestLogId }, o), request);
    return { log: required(r.requestLog), requestBody: plain(r.requestBody), responseBody: plain(r.responseBody) };
  }
}

const plain = (value: Value | undefined): JsonValue | undefined => (value ? toJson(ValueSchema, value) : undefined);

function required<T>(value: T | undefined): T {
  if (value === undefined) throw new Error("request log response came back empty");
  return value;
}
