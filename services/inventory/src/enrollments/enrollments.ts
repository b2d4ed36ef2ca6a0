import type { JsonObject } from "@bufbuild/protobuf";
import { validateOptions } from "../collectors/collectors";
import type { EnrollmentStatus } from "../db/schema";

/** What reads show instead of a secret-shaped parameter's value. */
export const MASKED = "********";

/** Keys whose values are secrets (api_key, password, client_secret, token, private_key, ...). */
const secretKeyPattern = /pass(word|wd|phrase)?|secret|token|api[_-]?key|private[_-]?key|credential|authorization|cookie|session/i;

export const isSecretKey = (key: string) => secretKeyPattern.test(key);

/** Parameters as given: JSON with finite numbers, at most 64 KiB. */
export function validateParameters(parameters: JsonObject): JsonObject {
  return validateOptions(parameters, "parameters");
}

/** The parameters with every secret-shaped top-level key masked, as reads show them. */
export function maskParameters(parameters: JsonObject): JsonObject {
  return Object.fromEntries(Object.entries(parameters).map(([key, value]) => [key, isSecretKey(key) ? MASKED : value]));
}

/** What the plugin's Verify gets: secret-shaped keys as `secret_data`, the others as `options`. */
export function verifyRequestOf(parameters: JsonObject): { options: JsonObject; secretData: JsonObject } {
  const options: JsonObject = {};
  const secretData: JsonObject = {};
  for (const [key, value] of Object.entries(parameters)) (isSecretKey(key) ? secretData : options)[key] = value;
  return { options, secretData };
}

/** Verification attempts that could not reach the plugin before an enrollment is FAILED. */
export const MAX_VERIFY_ATTEMPTS = 5;

/** How long a PENDING enrollment waits after an attempt that could not reach the plugin. */
export const retryDelayMs = (attempts: number) => Math.min(60_000, 1_000 * 2 ** Math.max(0, attempts - 1));

export const canCancel = (status: EnrollmentStatus) => status !== "CANCELLED";
