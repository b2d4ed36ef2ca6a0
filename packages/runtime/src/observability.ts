import { randomUUID } from "node:crypto";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "pino";
import { endWhenDone } from "./call-end";
import { fixedFieldLogger } from "./logger";
import type { RpcMetrics } from "./metrics";
import { requestIdKey, requestLoggerKey } from "./request-context";

const requestIdHeader = "x-request-id";
const validRequestId = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The outermost interceptor: gives the call a request id (the caller's, when sane), echoes it in
 * the response headers, and when the call ends writes one log line and the RPC metrics.
 */
export function observabilityInterceptor(logger: Logger, metrics: RpcMetrics): Interceptor {
  const lines = fixedFieldLogger(logger);
  return (next) => async (req) => {
    const offered = req.header.get(requestIdHeader);
    const requestId = offered && validRequestId.test(offered) ? offered : randomUUID();
    const method = `${req.service.typeName}/${req.method.name}`;
    let log: Logger | undefined;
    req.contextValues.set(requestIdKey, requestId);
    req.contextValues.set(requestLoggerKey, () => (log ??= logger.child({ request_id: requestId, method })));
    const kind = req.method.methodKind;
    metrics.started(method, kind);
    const started = process.hrtime.bigint();
    const finish = (err?: unknown) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const code = err === undefined ? "OK" : codeName(ConnectError.from(err).code);
      metrics.record(method, code, seconds, kind, true);
      // From the service's logger, not a child: a child per call cost more than the line itself.
      const line = { request_id: requestId, method, code, duration_ms: Math.round(seconds * 1e5) / 100 };
      if (err === undefined) lines.info(line, "rpc");
      else lines.warn({ ...line, error: ConnectError.from(err).rawMessage }, "rpc failed");
    };
    try {
      const res = await next(req);
      res.header.set(requestIdHeader, requestId);
      return endWhenDone(res, finish);
    } catch (err) {
      if (err instanceof ConnectError) err.metadata.set(requestIdHeader, requestId);
      finish(err);
      throw err;
    }
  };
}

/** gRPC code names as the metrics and logs spell them ("INVALID_ARGUMENT"), computed once. */
const codeNames = new Map<Code, string>();

export function codeName(code: Code): string {
  let name = codeNames.get(code);
  if (name === undefined) {
    name = Code[code]?.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase() ?? String(code);
    codeNames.set(code, name);
  }
  return name;
}
