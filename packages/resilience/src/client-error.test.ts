import { Code, ConnectError } from "@connectrpc/connect";
import { missingParameter, notFound, rateLimited, toConnectError } from "@cloudforet/errors";
import { describe, expect, it, vi } from "vitest";
import { ClientError } from "./client-error";

describe("ClientError.from", () => {
  it("carries the taxonomy of a peer's status", () => {
    const wire = toConnectError(notFound("Secret not found", { secret_id: "secret-abc123" }), "cloudforet.identity.v1", "req-1");
    const err = ClientError.from(wire);
    expect(err).toBeInstanceOf(ClientError);
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({
      errorCode: "ERROR_NOT_FOUND",
      grpcCode: Code.NotFound,
      httpStatus: 404,
      message: "Secret not found",
      details: { secret_id: "secret-abc123", request_id: "req-1" },
      requestId: "req-1",
      category: "NOT_FOUND_ERROR",
      shouldRetry: false,
    });
    expect(err.cause).toBe(wire);
  });

  it("keeps RetryInfo's delay", () => {
    const err = ClientError.from(toConnectError(rateLimited("Too many requests", 1500), "cloudforet.cost.v1"));
    expect(err).toMatchObject({ errorCode: "ERROR_RATE_LIMITED", httpStatus: 429, retryAfterMs: 1500, shouldRetry: true });
  });

  it("reports an illegal transition (FAILED_PRECONDITION) as a 400 conflict", () => {
    const err = ClientError.from(new ConnectError("Job is FINISHED", Code.FailedPrecondition));
    expect(err).toMatchObject({ errorCode: "ERROR_CONFLICT", httpStatus: 400, category: "CONFLICT_ERROR" });
  });

  it("reports a broken connection as ERROR_SERVICE_UNAVAILABLE", () => {
    const reset = Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
    const err = ClientError.from(reset, { requestId: "req-2" });
    expect(err).toMatchObject({
      errorCode: "ERROR_SERVICE_UNAVAILABLE",
      grpcCode: Code.Unavailable,
      httpStatus: 503,
      category: "TRANSIENT_ERROR",
      shouldRetry: true,
      requestId: "req-2",
    });
  });

  it("returns a ClientError unchanged", () => {
    const err = ClientError.from(new ConnectError("x", Code.Internal));
    expect(ClientError.from(err)).toBe(err);
  });
});

describe("toJSON", () => {
  it("is seed 000's comprehensive error response", () => {
    const err = ClientError.from(toConnectError(missingParameter("name"), "cloudforet.inventory.v1", "req-7"));
    expect(JSON.parse(JSON.stringify(err))).toEqual({
      error_code: "ERROR_INVALID_PARAMETER",
      error_message: "Missing required field",
      error_details: { parameter: "name", request_id: "req-7" },
      request_id: "req-7",
      should_retry: false,
    });
  });

  it("prints a null request_id when none is known", () => {
    const err = ClientError.from(new ConnectError("down", Code.Unavailable));
    expect(err.toJSON()).toEqual({
      error_code: "ERROR_SERVICE_UNAVAILABLE",
      error_message: "down",
      error_details: {},
      request_id: null,
      should_retry: true,
    });
  });
});

describe("instanceof", () => {
  it("holds across two copies of the package", async () => {
    vi.resetModules();
    const copy = await import("./client-error");
    expect(copy.ClientError).not.toBe(ClientError);
    const fromCopy = copy.ClientError.from(new ConnectError("x", Code.Unavailable));
    expect(fromCopy).toBeInstanceOf(ClientError);
    expect(ClientError.from(new ConnectError("x", Code.Unavailable))).toBeInstanceOf(copy.ClientError);
    // The copy's instance is recognised and passed through, not wrapped again.
    expect(ClientError.from(fromCopy)).toBe(fromCopy);
  });

  it("is decided by the brand, not the prototype", () => {
    const branded = Object.assign(Object.create(null), { [Symbol.for("cloudforet.ClientError")]: true });
    expect(branded instanceof ClientError).toBe(true);
    expect(new Error("plain") instanceof ClientError).toBe(false);
    expect(new ConnectError("x") instanceof ClientError).toBe(false);
    expect((null as unknown) instanceof ClientError).toBe(false);
  });
});
