import { toJson, type DescMessage, type Message } from "@bufbuild/protobuf";
import type { Interceptor } from "@connectrpc/connect";
import { ErrorCategory, taxonomy } from "@cloudforet/errors";
import { createEvent, requestLogSubjects, type EventBus } from "@cloudforet/events";
import type { Logger } from "pino";
import { callerKey } from "../caller";
import { answerOf } from "../error-mapping";
import { codeName } from "../observability";
import { requestIdKey } from "../request-context";
import { redactBody } from "./redact-body";
import type { RequestLogMode, RequestLoggingSwitches } from "./logging-switches";

/** The longest body a TRUNCATED record keeps, as JSON text. */
export const TRUNCATED_BODY_BYTES = 8 * 1024;

/** Procedures never recorded: reading one's own request logs would fill them with themselves. */
const UNRECORDED_SERVICE = "cloudforet.identity.v1.RequestLogService";

/** One recorded call as it travels to identity's store (`requestLogSubjects.callRecorded`). */
export interface RequestLogRecordData {
  request_id: string;
  service: string;
  path: string;
  status: number;
  code: string;
  error_type: string;
  error_source: "" | "caller" | "server";
  error_message: string;
  duration_ms: number;
  domain_id: string;
  user_id: string;
  api_key_id: string;
  workspace_id: string;
  mode: RequestLogMode;
  truncated: boolean;
  request_body: unknown;
  response_body: unknown;
  at: string;
}

export interface RequestLogInterceptorOptions {
  /** The service's name ("inventory"), stored with each record. */
  service: string;
  switches: RequestLoggingSwitches;
  bus: EventBus;
  logger: Logger;
}

/**
 * Records the unary calls of callers whose request logging is on and publishes each record to
 * identity's store. Callers with logging off cost one Map lookup. Publishing happens after the call
 * answered and never fails it: a lost record is a warning in the log.
 */
export function requestLogInterceptor(options: RequestLogInterceptorOptions): Interceptor {
  const { switches, bus, logger } = options;
  return (next) => async (req) => {
    const caller = req.contextValues.get(callerKey);
    const mode = caller ? switches.modeFor(caller) : undefined;
    if (!mode || req.stream || req.service.typeName === UNRECORDED_SERVICE) return next(req);
    const started = process.hrtime.bigint();
    const at = new Date();
    const path = `/${req.service.typeName}/${req.method.name}`;
    const procedure = `${req.service.typeName}/${req.method.name}`;
    const publish = (outcome: Outcome, response: Message | undefined) => {
      const durationMs = Math.round(Number(process.hrtime.bigint() - started) / 1e6);
      const requestBody = bodyOf(req.method.input, req.message, procedure, mode);
      const responseBody = response ? bodyOf(req.method.output, response, procedure, mode) : { body: null, truncated: false };
      const data: RequestLogRecordData = {
        request_id: req.contextValues.get(requestIdKey),
        service: options.service,
        path,
        ...outcome,
        duration_ms: durationMs,
        domain_id: caller!.domainId,
        user_id: caller!.userId,
        api_key_id: caller!.apiKeyId ?? "",
        workspace_id: workspaceOf(req.message),
        mode,
        truncated: requestBody.truncated || responseBody.truncated,
        request_body: requestBody.body,
        response_body: responseBody.body,
        at: at.toISOString(),
      };
      const event = createEvent({ subject: requestLogSubjects.callRecorded, domainId: caller!.domainId, occurredAt: at, data });
      bus.publish(event).catch((err: unknown) => {
        logger.warn({ err: err instanceof Error ? err.message : String(err), request_id: data.request_id, method: procedure }, "request log record not published");
      });
    };
    try {
      const res = await next(req);
      if (!res.stream) safely(logger, () => publish(success, res.message));
      return res;
    } catch (err) {
      safely(logger, () => publish(failure(err), undefined));
      throw err;
    }
  };
}

type Outcome = Pick<RequestLogRecordData, "status" | "code" | "error_type" | "error_source" | "error_message">;

const success: Outcome = { status: 200, code: "OK", error_type: "", error_source: "", error_message: "" };

/** Caller-side categories: the call's own input, credentials or target were wrong. */
const CALLER_CATEGORIES = new Set<string>([
  ErrorCategory.VALIDATION,
  ErrorCategory.AUTH,
  ErrorCategory.PERMISSION,
  ErrorCategory.NOT_FOUND,
  ErrorCategory.CONFLICT,
  ErrorCategory.RATE_LIMIT,
]);

/** The failed call's status and error, as the error-mapping interceptor answers it (answerOf). */
export function failure(err: unknown): Outcome {
  const { code, reason, message } = answerOf(err);
  const entry = taxonomy[reason];
  return {
    status: entry.http,
    code: codeName(code),
    error_type: reason,
    error_source: CALLER_CATEGORIES.has(entry.category) ? "caller" : "server",
    error_message: message.slice(0, 1024),
  };
}

/** The body as the caller sent or saw it, every field shown (zeros too: "total_count": 0 is an answer). */
function bodyOf(schema: DescMessage, message: Message, procedure: string, mode: RequestLogMode): { body: unknown; truncated: boolean } {
  const json = toJson(schema, message, { useProtoFieldName: true, alwaysEmitImplicit: true });
  const body = redactBody(procedure, json);
  if (mode === "COMPLETE") return { body, truncated: false };
  const text = JSON.stringify(body);
  if (text.length <= TRUNCATED_BODY_BYTES) return { body, truncated: false };
  return { body: text.slice(0, TRUNCATED_BODY_BYTES), truncated: true };
}

function workspaceOf(message: unknown): string {
  const value = (message as { workspaceId?: unknown }).workspaceId;
  return typeof value === "string" ? value : "";
}

/** Building a record never fails the call it records. */
function safely(logger: Logger, build: () => void): void {
  try {
    build();
  } catch (err) {
    logger.warn({ err: err instanceof Error ? err.message : String(err) }, "request log record not built");
  }
}
