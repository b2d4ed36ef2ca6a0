import { create } from "@bufbuild/protobuf";
import { DurationSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorInfoSchema, RetryInfoSchema } from "@cloudforet/proto/google/rpc/error_details_pb";
import { PlatformError } from "./platform-error";
import { ErrorCode, errorCodeForGrpc, type ErrorCode as ErrorCodeType } from "./taxonomy";

/**
 * The wire form of a PlatformError: its gRPC status with a google.rpc.ErrorInfo detail
 * (reason = code, domain = the service package, metadata + request_id) and, when rate
 * limited, a google.rpc.RetryInfo.
 */
export function toConnectError(err: PlatformError, domain: string, requestId?: string): ConnectError {
  const metadata = requestId ? { ...err.metadata, request_id: requestId } : err.metadata;
  const details: ConstructorParameters<typeof ConnectError>[3] = [
    { desc: ErrorInfoSchema, value: { reason: err.code, domain, metadata } },
  ];
  if (err.retryAfterMs !== undefined) {
    const seconds = Math.floor(err.retryAfterMs / 1000);
    const nanos = (err.retryAfterMs % 1000) * 1_000_000;
    details.push({
      desc: RetryInfoSchema,
      value: { retryDelay: create(DurationSchema, { seconds: BigInt(seconds), nanos }) },
    });
  }
  return new ConnectError(err.message, err.grpcCode, undefined, details, err);
}

export interface DecodedError {
  code: ErrorCodeType;
  grpcCode: Code;
  message: string;
  domain: string;
  metadata: Record<string, string>;
  /** RetryInfo's delay, when the server sent one. */
  retryAfterMs?: number;
  requestId?: string;
}

/** Reads the taxonomy back out of any error a Connect or gRPC client raised. */
export function decodeError(err: unknown): DecodedError {
  const connectErr = ConnectError.from(err);
  const [info] = connectErr.findDetails(ErrorInfoSchema);
  const [retry] = connectErr.findDetails(RetryInfoSchema);
  const code = isErrorCode(info?.reason) ? info.reason : errorCodeForGrpc(connectErr.code);
  const retryAfterMs = retry?.retryDelay
    ? Number(retry.retryDelay.seconds) * 1000 + Math.round(retry.retryDelay.nanos / 1_000_000)
    : undefined;
  const requestId = info?.metadata.request_id ?? connectErr.metadata.get("x-request-id") ?? undefined;
  return {
    code,
    grpcCode: connectErr.code,
    message: connectErr.rawMessage,
    domain: info?.domain ?? "",
    metadata: { ...(info?.metadata ?? {}) },
    retryAfterMs,
    requestId,
  };
}

const knownCodes = new Set<string>(Object.values(ErrorCode));

function isErrorCode(value: string | undefined): value is ErrorCodeType {
  return value !== undefined && knownCodes.has(value);
}
