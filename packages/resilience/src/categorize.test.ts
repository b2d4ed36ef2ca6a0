import { Code, ConnectError } from "@connectrpc/connect";
import { conflict, illegalTransition, notFound, payloadTooLarge, rateLimited, toConnectError } from "@cloudforet/errors";
import { describe, expect, it } from "vitest";
import { categorize, ErrorCategory, shouldAlert, shouldRetry } from "./categorize";

describe("categorize", () => {
  it.each([
    [Code.Unauthenticated, "AUTH_ERROR"],
    [Code.PermissionDenied, "PERMISSION_ERROR"],
    [Code.InvalidArgument, "VALIDATION_ERROR"],
    [Code.NotFound, "NOT_FOUND_ERROR"],
    [Code.AlreadyExists, "CONFLICT_ERROR"],
    [Code.FailedPrecondition, "CONFLICT_ERROR"],
    [Code.ResourceExhausted, "RATE_LIMIT_ERROR"],
    [Code.Unavailable, "TRANSIENT_ERROR"],
    [Code.DeadlineExceeded, "TRANSIENT_ERROR"],
    [Code.Internal, "SERVER_ERROR"],
    [Code.Unknown, "UNKNOWN_ERROR"],
    [Code.Unimplemented, "UNKNOWN_ERROR"],
  ])("a bare gRPC %s status is %s", (code, category) => {
    expect(categorize(new ConnectError("boom", code))).toBe(category);
  });

  it("reads the ErrorInfo reason before the gRPC code", () => {
    const tooLarge = toConnectError(payloadTooLarge("Batch exceeds 1000 items"), "cloudforet.cost.v1");
    expect(tooLarge.code).toBe(Code.ResourceExhausted);
    expect(categorize(tooLarge)).toBe("VALIDATION_ERROR");
    expect(categorize(toConnectError(rateLimited("Slow down", 1000), "cloudforet.cost.v1"))).toBe("RATE_LIMIT_ERROR");
    expect(categorize(toConnectError(illegalTransition("Job is FINISHED"), "x"))).toBe("CONFLICT_ERROR");
    expect(categorize(toConnectError(conflict("Collector busy"), "x"))).toBe("CONFLICT_ERROR");
    expect(categorize(toConnectError(notFound("No such secret"), "x"))).toBe("NOT_FOUND_ERROR");
  });

  it("falls back to the gRPC code when the reason is not one of ours", async () => {
    const { ErrorInfoSchema } = await import("@cloudforet/proto/google/rpc/error_details_pb");
    const foreign = new ConnectError("quota", Code.Unavailable, undefined, [
      { desc: ErrorInfoSchema, value: { reason: "constructor", domain: "googleapis.com" } },
    ]);
    expect(categorize(foreign)).toBe("TRANSIENT_ERROR");
  });

  it("treats network failures as transient", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
    expect(categorize(refused)).toBe("TRANSIENT_ERROR");
    const reset = new ConnectError("socket hang up", Code.Aborted, undefined, undefined, {
      code: "ECONNRESET",
    });
    expect(categorize(reset)).toBe("TRANSIENT_ERROR");
  });

  it("knows PlatformErrors and anything that carries a category", () => {
    expect(categorize(notFound("gone"))).toBe("NOT_FOUND_ERROR");
    expect(categorize({ category: "AUTH_ERROR" })).toBe("AUTH_ERROR");
    expect(categorize("a string")).toBe("UNKNOWN_ERROR");
    expect(categorize(new Error("plain"))).toBe("UNKNOWN_ERROR");
  });
});

describe("shouldRetry and shouldAlert (seed 000, pattern 2)", () => {
  const retried = ["TRANSIENT_ERROR", "SERVER_ERROR", "RATE_LIMIT_ERROR"];
  const alerted = ["AUTH_ERROR", "PERMISSION_ERROR", "SERVER_ERROR"];
  it.each(Object.values(ErrorCategory))("%s", (category) => {
    expect(shouldRetry(category)).toBe(retried.includes(category));
    expect(shouldAlert(category)).toBe(alerted.includes(category));
  });
});
