import { printable } from "@cloudforet/errors";
/** What replaces a secret value in a stored request log body. */
export const REDACTED = "[redacted]";

/**
 * Field names whose values are secrets wherever they appear (snake_case or camelCase): passwords,
 * tokens, API keys, credentials, private keys, authorization headers. Ids of such things
 * (`secret_id`, `api_key_id`, `credential_id`) are not secrets and stay readable.
 */
const SECRET_FIELD = /(password|passwd|passphrase|(?<!page_?)token|secret(?!_?id)|api_?key(?!_?(id|prefix))|authorization|credential(?!_?id)|private_?key|client_?secret|cookie)/i;

/** Values that are secrets whatever their field is called: JWTs, identity's API keys, bearer headers. */
const SECRET_VALUE = /(eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}|cfk_[A-Za-z0-9_-]{20,}|^\s*Bearer\s+\S+)/;

/**
 * Procedures whose `data` field is a secret's plaintext (identity's secrets): redacted whole, in the
 * request and the response.
 */
const SECRET_DATA_PROCEDURES = /^cloudforet\.identity\.v1\.SecretService\//;

/** A copy of a JSON body with every secret replaced by "[redacted]". */
export function redactBody(procedure: string, body: unknown): unknown {
  const secretData = SECRET_DATA_PROCEDURES.test(procedure);
  return redactValue(body, secretData, 0);
}

function redactValue(value: unknown, secretData: boolean, depth: number): unknown {
  // Printable: a batch's rows pass the input guard unchecked, and the store (jsonb) refuses a NUL.
  if (typeof value === "string") return SECRET_VALUE.test(value) ? REDACTED : printable(value);
  if (value === null || typeof value !== "object") return value;
  // Bodies passed the input guard's depth limit already; this bounds a pathological response too.
  if (depth > 64) return REDACTED;
  if (Array.isArray(value)) return value.map((item) => redactValue(item, secretData, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (SECRET_FIELD.test(key) || (secretData && key === "data")) out[key] = item === "" || item === null ? item : REDACTED;
    else out[printable(key)] = redactValue(item, secretData, depth + 1);
  }
  return out;
}
