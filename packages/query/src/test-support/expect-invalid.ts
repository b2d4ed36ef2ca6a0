import { ErrorCode, PlatformError } from "@cloudforet/errors";
import { expect } from "vitest";

/** gRPC INVALID_ARGUMENT. */
const invalidArgument = 3;

/** Asserts the call fails with ERROR_INVALID_PARAMETER (INVALID_ARGUMENT) naming `parameter`. */
export async function expectInvalid(call: () => unknown, parameter: string | RegExp): Promise<PlatformError> {
  let caught: unknown;
  try {
    await call();
  } catch (err) {
    caught = err;
  }
  expect(caught, "expected an INVALID_ARGUMENT error").toBeInstanceOf(PlatformError);
  const error = caught as PlatformError;
  expect(error.code).toBe(ErrorCode.INVALID_PARAMETER);
  expect(error.grpcCode).toBe(invalidArgument);
  if (typeof parameter === "string") expect(error.metadata.parameter).toBe(parameter);
  else expect(error.metadata.parameter).toMatch(parameter);
  return error;
}
