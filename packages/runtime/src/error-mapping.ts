import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { ErrorInfoSchema } from "@cloudforet/proto/google/rpc/error_details_pb";
import { isConnectionError } from "@cloudforet/db";
import { PlatformError, errorCodeForGrpc, serviceUnavailable, toConnectError } from "@cloudforet/errors";
import type { Logger } from "pino";
import { requestIdKey, requestLoggerKey } from "./request-context";

/**
 * Maps whatever a handler throws onto the taxonomy (SPEC §3), once, for every service:
 * a PlatformError becomes its status with ErrorInfo; a ConnectError gets an ErrorInfo if it has
 * none; a lost database connection is UNAVAILABLE; anything else is a bug — logged with its stack
 * and answered INTERNAL without internals.
 */
export function errorMappingInterceptor(domain: string, logger: Logger): Interceptor {
  return (next) => async (req) => {
    const requestId = req.contextValues.get(requestIdKey);
    const log = req.contextValues.get(requestLoggerKey) ?? logger;
    const map = (err: unknown) => toTaxonomyError(err, domain, requestId, log);
    try {
      const res = await next(req);
      if (!res.stream) return res;
      return { ...res, message: mapStreamErrors(res.message, map) };
    } catch (err) {
      throw map(err);
    }
  };
}

async function* mapStreamErrors<T>(messages: AsyncIterable<T>, map: (err: unknown) => ConnectError): AsyncIterable<T> {
  try {
    yield* messages;
  } catch (err) {
    throw map(err);
  }
}

export function toTaxonomyError(err: unknown, domain: string, requestId: string, log: Logger): ConnectError {
  if (err instanceof PlatformError) return toConnectError(err, domain, requestId);
  if (err instanceof ConnectError) {
    if (err.findDetails(ErrorInfoSchema).length > 0 || err.code === Code.Canceled) return err;
    const reason = errorCodeForGrpc(err.code);
    const info = { desc: ErrorInfoSchema, value: { reason, domain, metadata: { request_id: requestId } } };
    return new ConnectError(err.rawMessage, err.code, err.metadata, [info], err.cause);
  }
  // A lost or refused database connection is an outage, not a bug: UNAVAILABLE, which clients retry.
  if (isConnectionError(err)) {
    log.warn({ err: err instanceof Error ? err.message : String(err) }, "database unavailable");
    return toConnectError(serviceUnavailable("The database is unavailable; retry later"), domain, requestId);
  }
  log.error({ err }, "unexpected error in handler");
  return new ConnectError(`internal error (request id ${requestId})`, Code.Internal, undefined, [
    { desc: ErrorInfoSchema, value: { reason: "ERROR_UNKNOWN", domain, metadata: { request_id: requestId } } },
  ]);
}
