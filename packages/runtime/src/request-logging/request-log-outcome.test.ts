import { Code, ConnectError } from "@connectrpc/connect";
import { invalidParameter, notFound } from "@cloudforet/errors";
import { describe, expect, it } from "vitest";
import { failure } from "./request-log-interceptor";

// A record states the answer the caller got: the error mapping's, not a second guess of it.
describe("a failed call's record", () => {
  it("names the caller's own mistakes as theirs", () => {
    expect(failure(invalidParameter("bad", { parameter: "x" }))).toMatchObject({ status: 400, code: "INVALID_ARGUMENT", error_type: "ERROR_INVALID_PARAMETER", error_source: "caller" });
    expect(failure(notFound("gone", {}))).toMatchObject({ status: 404, code: "NOT_FOUND", error_source: "caller" });
  });

  it("records a lost database connection as the UNAVAILABLE the caller got, not INTERNAL", () => {
    const lost = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
    expect(failure(lost)).toMatchObject({ code: "UNAVAILABLE", error_type: "ERROR_SERVICE_UNAVAILABLE", error_source: "server" });
  });

  it("records an undecodable body as the INVALID_ARGUMENT the caller got", () => {
    const unparsable = new ConnectError("parse JSON: unexpected token", Code.Internal);
    expect(failure(unparsable)).toMatchObject({ code: "INVALID_ARGUMENT", error_type: "ERROR_INVALID_PARAMETER", error_source: "caller" });
  });

  it("keeps a bug's internals out of the record", () => {
    expect(failure(new TypeError("x is undefined at secret/path.ts:12"))).toEqual(
      expect.objectContaining({ code: "INTERNAL", error_type: "ERROR_UNKNOWN", error_source: "server", error_message: "internal error" }),
    );
  });
});
