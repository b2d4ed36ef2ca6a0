import type { ServiceImpl } from "@connectrpc/connect";
import { RequestLogService } from "@cloudforet/proto/cloudforet/identity/v1/request_log_pb";
import { Access } from "../access/access";
import { optionalDate } from "../messages/list-rows";
import type { RequestLogRules } from "./request-logs";
import { bodyValue, statusMessage, toMessage } from "./to-message";

export function requestLogHandlers(rules: RequestLogRules): ServiceImpl<typeof RequestLogService> {
  return {
    async start(req, ctx) {
      return { status: statusMessage(await rules.start(Access.of(ctx), req.truncateLongMessage)) };
    },
    async stop(_req, ctx) {
      return { status: statusMessage(await rules.stop(Access.of(ctx))) };
    },
    async getStatus(_req, ctx) {
      return { status: statusMessage(await rules.status(Access.of(ctx))) };
    },
    async list(req, ctx) {
      const { rows, total } = await rules.list(Access.of(ctx), {
        skip: req.skip,
        limit: req.limit,
        service: req.service,
        statusMin: req.statusMin,
        statusMax: req.statusMax,
        startTime: optionalDate(req.startTime),
        endTime: optionalDate(req.endTime),
        path: req.path,
        errorSource: req.errorSource,
        errorType: req.errorType,
      });
      return { results: rows.map(toMessage), totalCount: total };
    },
    async get(req, ctx) {
      const row = await rules.get(Access.of(ctx), req.requestLogId);
      return { requestLog: toMessage(row), requestBody: bodyValue(row.requestBody), responseBody: bodyValue(row.responseBody) };
    },
  };
}
