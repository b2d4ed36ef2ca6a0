import path from "node:path";
import type { JsonObject } from "@bufbuild/protobuf";
import { JsonSealer, UnreadableSealError, loadOrCreateKeyFile, parseKeyList, type AesKey } from "@cloudforet/runtime";

/** One AES-256 key of NOTIFICATION_CREDENTIALS_KEYS. */
export type CredentialKey = AesKey;

/** Parses `kid:base64key[,kid:base64key…]`; messages name key ids, never key material. */
export const parseCredentialKeys = parseKeyList;

/** Sealed credentials that do not open (key gone, tampered, malformed). */
export const CredentialsUnreadableError = UnreadableSealError;

/**
 * Seals a channel's secret data for the row that keeps it. The channel id is bound as associated
 * data, so a sealed value copied onto another channel does not open there; the first key seals,
 * every key opens (rotation).
 */
export class CredentialSealer extends JsonSealer<JsonObject> {
  constructor(keys: CredentialKey[]) {
    super(keys, "NOTIFICATION_CREDENTIALS_KEYS");
  }
}

/**
 * The key to use when NOTIFICATION_CREDENTIALS_KEYS is unset: one generated on first start and kept
 * (mode 0600) under the data dir. Fine for one process; replicas must share NOTIFICATION_CREDENTIALS_KEYS.
 */
export async function credentialKeyFile(dataDir: string): Promise<CredentialKey[]> {
  return (await loadOrCreateKeyFile(path.join(dataDir, "notification-credentials.key"), "local")).keys;
}
