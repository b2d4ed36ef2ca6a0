import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { ErrorCode, errorCodeForGrpc, taxonomy } from "./taxonomy";

describe("errorCodeForGrpc", () => {
  it.each([
    [Code.InvalidArgument, ErrorCode.INVALID_PARAMETER],
    [Code.OutOfRange, ErrorCode.INVALID_PARAMETER],
    [Code.Unauthenticated, ErrorCode.AUTHENTICATE_FAILURE],
    [Code.PermissionDenied, ErrorCode.PERMISSION_DENIED],
    [Code.NotFound, ErrorCode.NOT_FOUND],
    [Code.Unimplemented, ErrorCode.NOT_FOUND],
    [Code.AlreadyExists, ErrorCode.CONFLICT],
    [Code.FailedPrecondition, ErrorCode.CONFLICT],
    [Code.ResourceExhausted, ErrorCode.RATE_LIMITED],
    [Code.Unavailable, ErrorCode.SERVICE_UNAVAILABLE],
    [Code.DeadlineExceeded, ErrorCode.TIMEOUT],
    [Code.Internal, ErrorCode.UNKNOWN],
    [Code.Unknown, ErrorCode.UNKNOWN],
  ])("gRPC %s → %s", (grpc, code) => {
    expect(errorCodeForGrpc(grpc)).toBe(code);
  });

  it("never marks a method the server lacks as retryable", () => {
    expect(taxonomy[errorCodeForGrpc(Code.Unimplemented)].retry).toBe(false);
  });
});
