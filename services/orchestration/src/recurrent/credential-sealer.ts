import path from "node:path";
import { JsonSealer, loadOrCreateKeyFile, parseKeyList, type AesKey } from "@cloudforet/runtime";

/** One AES-256 key of ORCHESTRATION_CREDENTIALS_KEYS. */
export type CredentialKey = AesKey;

/** Parses `kid:base64key[,kid:base64key…]` (first = sealing key); messages never hold key material. */
export const parseCredentialKeys = parseKeyList;

/**
 * Seals the credential headers of a recurrent request. The request id is the associated data, so a
 * sealed value copied onto another row does not open there; the first key seals, every key opens.
 */
export class CredentialSealer extends JsonSealer<Record<string, string>> {
  constructor(keys: CredentialKey[]) {
    super(keys, "ORCHESTRATION_CREDENTIALS_KEYS");
  }
}

/**
 * The key when ORCHESTRATION_CREDENTIALS_KEYS is unset: generated on first start and kept (mode
 * 0600) under the data dir. Fine for one host; replicas on several hosts must share the variable.
 */
export async function loadCredentialKeyFile(dataDir: string): Promise<CredentialKey[]> {
  return (await loadOrCreateKeyFile(path.join(dataDir, "orchestration-credentials.key"), "local")).keys;
}
