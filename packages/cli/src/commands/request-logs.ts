import { timestampDate } from "@bufbuild/protobuf/wkt";
import { RequestLogMode_Mode, type RequestLog } from "@cloudforet/proto/cloudforet/identity/v1/request_log_pb";
import { UsageError } from "../cli-error";
import { clientOf, parseCommandArgs, type Command } from "../command";

const USAGE = "usage: cfctl request-logs start [--complete] | stop | status | list [filters] | get <request-log-id>";

/** `cfctl request-logs start|stop|status|list|get`: the caller's own request logs (seed 001 RequestLogs). */
export const requestLogsCommand: Command = {
  name: "request-logs",
  help: `Usage: cfctl request-logs start [--complete | --truncated]
       cfctl request-logs stop
       cfctl request-logs status
       cfctl request-logs list [--service S] [--status-min N] [--status-max N] [--since ISO] [--until ISO]
                               [--path PREFIX] [--error-type T] [--error-source caller|server] [--skip N] [--limit N]
       cfctl request-logs get <request-log-id>

start turns request logging on for the user (or API key) cfctl logs in as: every service then
records its calls (method, status, error, duration, request id, workspace and bodies, secrets
redacted). --truncated keeps an 8 KB preview of long bodies, --complete keeps them whole; without
either the earlier choice stays. stop turns it off; stored records stay listed. list shows records
newest first (default: the last 24 hours, 50 at a time); get prints one with its bodies as JSON.
`,
  async run(ctx) {
    const { values, positionals } = parseCommandArgs(ctx, "request-logs", {
      complete: { type: "boolean" },
      truncated: { type: "boolean" },
      service: { type: "string" },
      "status-min": { type: "string" },
      "status-max": { type: "string" },
      since: { type: "string" },
      until: { type: "string" },
      path: { type: "string" },
      "error-type": { type: "string" },
      "error-source": { type: "string" },
      skip: { type: "string" },
      limit: { type: "string" },
    });
    if (values.help) return ctx.stdout.write(this.help), 0;
    const [verb, id] = positionals;
    const arity: Record<string, number> = { start: 1, stop: 1, status: 1, list: 1, get: 2 };
    if (!verb || arity[verb] !== positionals.length) throw new UsageError(USAGE, "request-logs");
    if (values.complete && values.truncated) throw new UsageError("--complete and --truncated exclude each other", "request-logs");
    const logs = (await clientOf(ctx)).requestLogs;

    if (verb === "start" || verb === "stop" || verb === "status") {
      const status =
        verb === "start" ? await logs.start({ truncateLongMessage: values.complete ? false : values.truncated ? true : undefined }) : verb === "stop" ? await logs.stop() : await logs.status();
      const who = `${status.callerType === "API_KEY" ? "api key" : "user"} ${status.callerId}`;
      ctx.stdout.write(`request logging ${status.enabled ? "on" : "off"} for ${who} (${RequestLogMode_Mode[status.mode]})\n`);
      return 0;
    }
    if (verb === "get") {
      const detail = await logs.get(id);
      ctx.stdout.write(`${JSON.stringify({ ...summary(detail.log), request_body: detail.requestBody ?? null, response_body: detail.responseBody ?? null }, null, 2)}\n`);
      return 0;
    }
    const number = (name: string, value: string | undefined) => {
      if (value === undefined) return undefined;
      const n = Number(value);
      if (!Number.isInteger(n)) throw new UsageError(`--${name} must be a whole number`, "request-logs");
      return n;
    };
    const time = (name: string, value: string | undefined) => {
      if (value === undefined) return undefined;
      const date = new Date(value);
      if (Number.isNaN(date.getTime())) throw new UsageError(`--${name} must be an ISO-8601 time`, "request-logs");
      return date;
    };
    const { results, totalCount } = await logs.list({
      skip: number("skip", values.skip),
      limit: number("limit", values.limit),
      service: values.service,
      statusMin: number("status-min", values["status-min"]),
      statusMax: number("status-max", values["status-max"]),
      startTime: time("since", values.since),
      endTime: time("until", values.until),
      userRequestPath: values.path,
      errorType: values["error-type"],
      errorSource: values["error-source"],
    });
    for (const log of results) {
      const at = log.eventTimestamp ? timestampDate(log.eventTimestamp).toISOString() : "-";
      ctx.stdout.write(`${at}  ${String(log.status).padEnd(3)}  ${`${log.durationMs}ms`.padStart(7)}  ${log.path}  ${log.requestLogId}${log.errorType ? `  ${log.errorType}` : ""}\n`);
    }
    ctx.stdout.write(`${results.length} of ${totalCount}\n`);
    return 0;
  },
};

function summary(log: RequestLog) {
  return {
    request_log_id: log.requestLogId,
    request_id: log.requestId,
    service: log.service,
    path: log.path,
    status: log.status,
    code: log.code,
    error_type: log.errorType,
    error_source: log.errorSource,
    error_message: log.errorMessage,
    duration_ms: log.durationMs,
    user_id: log.userId,
    api_key_id: log.apiKeyId,
    workspace_id: log.workspaceId,
    mode: RequestLogMode_Mode[log.mode],
    truncated: log.truncated,
    event_timestamp: log.eventTimestamp ? timestampDate(log.eventTimestamp).toISOString() : null,
  };
}
