import { randomUUID } from "node:crypto";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "pino";
import type { RpcMetrics } from "./metrics";
import { requestIdKey, requestLoggerKey } from "./request-context";

const requestIdHeader = "x-request-id";
const validRequestId = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The outermost interceptor: gives the call a request id (the caller's, when sane), echoes it in
 * the response headers, and when the call ends writes one log line and the RPC metrics.
 */
export function observabilityInterceptor(logger: Logger, metrics: RpcMetrics): Interceptor {
  return (next) => async (req) => {
    const offered = req.header.get(requestIdHeader);
    const requestId = offered && validRequestId.test(offered) ? offered : randomUUID();
    const method = `${req.service.typeName}/${req.method.name}`;
    const log = logger.child({ request_id: requestId, method });
    req.contextValues.set(requestIdKey, requestId);
    req.contextValues.set(requestLoggerKey, log);
    const started = process.hrtime.bigint();
    const finish = (err?: unknown) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const code = err === undefined ? "OK" : codeName(ConnectError.from(err).code);
      metrics.record(method, code, seconds);
      const line = { code, duration_ms: Math.round(seconds * 1e5) / 100 };
      if (err === undefined) log.info(line, "rpc");
      else log.warn({ ...line, error: ConnectError.from(err).rawMessage }, "rpc failed");
    };
    try {
      const res = await next(req);
      res.header.set(requestIdHeader, requestId);
      if (!res.stream) {
        finish();
        return res;
      }
      return { ...res, message: observeStream(res.message, finish) };
    } catch (err) {
      if (err instanceof ConnectError) err.metadata.set(requestIdHeader, requestId);
      finish(err);
      throw err;
    }
  };
}

async function* observeStream<T>(messages: AsyncIterable<T>, finish: (err?: unknown) => void): AsyncIterable<T> {
  let failure: unknown;
  try {
    yield* messages;
  } catch (err) {
    failure = err;
    throw err;
  } finally {
    finish(failure);
  }
}

function codeName(code: Code): string {
  return Code[code]?.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase() ?? String(code);
}
