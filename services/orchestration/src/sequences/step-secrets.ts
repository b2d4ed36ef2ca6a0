import { JsonSealer, UnreadableSealError } from "@cloudforet/runtime";
import type { CredentialKey } from "../recurrent/credential-sealer";

/**
 * A step param (or http header) whose name says it holds a credential: Authorization,
 * Proxy-Authorization, Cookie, X-Api-Key, password, client_secret, token, api_key…
 */
export const SENSITIVE_PARAM = /(authorization|password|secret|token|api[-_]?key|cookie)/i;

/** What every API answer shows instead of a credential. */
export const REDACTED = "***";

/** A sealed value in a stored definition: `sealed:v1:<kid>:<ciphertext>`, still a string where the literal was. */
const SEALED_PREFIX = "sealed:";

/**
 * Seals the literal credentials of step params with the same keys as recurrent requests'
 * (ORCHESTRATION_CREDENTIALS_KEYS or the key file). The sequence id is the associated data, so a
 * value copied into another sequence does not open there.
 */
export class StepSecretSealer extends JsonSealer<string> {
  constructor(keys: CredentialKey[]) {
    super(keys, "ORCHESTRATION_CREDENTIALS_KEYS");
  }
}

type Json = unknown;

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** A template such as "{{ context.token }}" names where the value comes from; it is no secret itself. */
const isLiteral = (value: string) => !value.includes("{{");

const isSealed = (value: unknown): value is string => typeof value === "string" && value.startsWith(SEALED_PREFIX);

/**
 * Rewrites the string leaves of every step's params: `change(value, sensitive)` where `sensitive`
 * says the leaf sits under a credential-named key (at any depth, e.g. headers.Authorization).
 */
function mapStepParams(blocks: Json, change: (value: string, sensitive: boolean) => string): Json {
  const params = (value: Json, sensitive: boolean): Json => {
    if (typeof value === "string") return change(value, sensitive);
    if (Array.isArray(value)) return value.map((item) => params(item, sensitive));
    if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, params(v, sensitive || SENSITIVE_PARAM.test(key))]));
    return value;
  };
  const walk = (value: Json): Json => {
    if (Array.isArray(value)) return value.map(walk);
    if (!isObject(value)) return value;
    if (value.type === "step" && isObject(value.params)) return { ...value, params: params(value.params, false) };
    return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, walk(v)]));
  };
  return walk(blocks);
}

/** The definition as stored: literal credentials sealed, everything else as written. */
export function sealStepSecrets<T>(blocks: T, sealer: StepSecretSealer, sequenceId: string): T {
  return mapStepParams(blocks, (value, sensitive) => (sensitive && isLiteral(value) ? SEALED_PREFIX + sealer.seal(value, sequenceId) : value)) as T;
}

/**
 * The definition the engine runs: sealed values opened. Rows stored before sealing hold plaintext,
 * which passes through. A value that no longer opens (its key is gone) stays sealed and is reported,
 * so the step fails at its target rather than sending a guessed credential.
 */
export function openStepSecrets<T>(blocks: T, sealer: StepSecretSealer, sequenceId: string, unreadable: (err: UnreadableSealError) => void): T {
  return mapStepParams(blocks, (value) => {
    if (!isSealed(value)) return value;
    try {
      return sealer.open(value.slice(SEALED_PREFIX.length), sequenceId);
    } catch (err) {
      if (!(err instanceof UnreadableSealError)) throw err;
      unreadable(err);
      return value;
    }
  }) as T;
}

/** The definition an API answer shows: credentials (sealed, or plaintext in older rows) as "***". */
export function redactStepSecrets<T>(blocks: T): T {
  return mapStepParams(blocks, (value, sensitive) => (isSealed(value) || (sensitive && isLiteral(value)) ? REDACTED : value)) as T;
}
