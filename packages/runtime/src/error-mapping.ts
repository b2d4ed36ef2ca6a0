import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { ErrorInfoSchema } from "@cloudforet/proto/google/rpc/error_details_pb";
import { isConnectionError } from "@cloudforet/db";
import { ErrorCode, PlatformError, errorCodeForGrpc, serviceUnavailable, taxonomy, toConnectError } from "@cloudforet/errors";
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
    const map = (err: unknown) => toTaxonomyError(err, domain, requestId, req.contextValues.get(requestLoggerKey)?.() ?? logger);
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
    const { code, reason } = answerOfConnectError(err);
    const info = { desc: ErrorInfoSchema, value: { reason, domain, metadata: { request_id: requestId } } };
    return new ConnectError(err.rawMessage, code, err.metadata, [info], err.cause);
  }
  if (isConnectionError(err)) {
    log.warn({ err: err instanceof Error ? err.message : String(err) }, "database unavailable");
    return toConnectError(databaseUnavailable(), domain, requestId);
  }
  log.error({ err }, "unexpected error in handler");
  return new ConnectError(`internal error (request id ${requestId})`, Code.Internal, undefined, [
    { desc: ErrorInfoSchema, value: { reason: "ERROR_UNKNOWN", domain, metadata: { request_id: requestId } } },
  ]);
}

/** What a failed call answers, as toTaxonomyError maps it (without its logging): for records of the call. */
export function answerOf(err: unknown): { code: Code; reason: ErrorCode; message: string } {
  if (err instanceof PlatformError) return { code: err.grpcCode, reason: err.code, message: err.message };
  if (err instanceof ConnectError) {
    const given = err.findDetails(ErrorInfoSchema)[0]?.reason as ErrorCode | undefined;
    if (given && given in taxonomy) return { code: err.code, reason: given, message: err.rawMessage };
    return { ...answerOfConnectError(err), message: err.rawMessage };
  }
  if (isConnectionError(err)) {
    const unavailable = databaseUnavailable();
    return { code: unavailable.grpcCode, reason: unavailable.code, message: unavailable.message };
  }
  // A bug: the client is told "internal error", with no internals.
  return { code: Code.Internal, reason: ErrorCode.UNKNOWN, message: "internal error" };
}

/** A ConnectError without ErrorInfo, on the taxonomy. */
function answerOfConnectError(err: ConnectError): { code: Code; reason: ErrorCode } {
  // Connect calls a body it cannot decode (e.g. binary nested past protobuf-es' 100 levels) INTERNAL: it is bad input.
  const code = err.code === Code.Internal && /^parse (binary|JSON)/.test(err.rawMessage) ? Code.InvalidArgument : err.code;
  return { code, reason: isReadLimitError(err) ? ErrorCode.PAYLOAD_TOO_LARGE : errorCodeForGrpc(code) };
}

/** A lost or refused database connection is an outage, not a bug: UNAVAILABLE, which clients retry. */
const databaseUnavailable = () => serviceUnavailable("The database is unavailable; retry later");

/**
 * Connect's own refusal of a message over `readMaxBytes` (a stream's message, a decompressed body):
 * RESOURCE_EXHAUSTED without details, which is ERROR_PAYLOAD_TOO_LARGE, not a rate limit.
 */
export function isReadLimitError(err: ConnectError): boolean {
  return err.code === Code.ResourceExhausted && /larger than configured readMaxBytes/.test(err.rawMessage);
}
