import path from "node:path";
import type { JsonObject } from "@bufbuild/protobuf";
import { Keyring, UnknownKeyError, loadOrCreateKeyFile, parseKeyList, type AesKey } from "@cloudforet/runtime";

/** One AES-256 key of NOTIFICATION_CREDENTIALS_KEYS. */
export type CredentialKey = AesKey;

const FORMAT = "v1";

/** Parses `kid:base64key[,kid:base64key…]`; messages name key ids, never key material. */
export const parseCredentialKeys = parseKeyList;

export class CredentialsUnreadableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CredentialsUnreadableError";
  }
}

/**
 * Seals a channel's secret data for the row that keeps it, as one string `v1:<kid>:<base64>`. The
 * channel id is bound as associated data, so a sealed value copied onto another channel does not
 * open there. The first key seals; every key opens (rotation as the keyring describes).
 */
export class CredentialSealer {
  private readonly keyring: Keyring;

  constructor(keys: CredentialKey[]) {
    if (keys.length === 0) throw new Error("a sealer needs at least one key");
    this.keyring = new Keyring(keys);
  }

  seal(data: JsonObject, channelId: string): string {
    const { keyId, ciphertext } = this.keyring.seal(JSON.stringify(data), channelId);
    return `${FORMAT}:${keyId}:${ciphertext}`;
  }

  /** Throws CredentialsUnreadableError when the key is gone or the value was tampered with. */
  open(sealed: string, channelId: string): JsonObject {
    const [format, kid, encoded] = sealed.split(":");
    if (format !== FORMAT || !kid || !encoded) throw new CredentialsUnreadableError("sealed credentials are malformed");
    try {
      return JSON.parse(this.keyring.open({ keyId: kid, ciphertext: encoded }, channelId)) as JsonObject;
    } catch (err) {
      if (err instanceof UnknownKeyError) {
        throw new CredentialsUnreadableError(`credentials were sealed with key "${kid}", which NOTIFICATION_CREDENTIALS_KEYS no longer holds`);
      }
      throw new CredentialsUnreadableError("sealed credentials do not open with their key", { cause: err });
    }
  }
}

/**
 * The key to use when NOTIFICATION_CREDENTIALS_KEYS is unset: one generated on first start and kept
 * (mode 0600) under the data dir. Fine for one process; replicas must share NOTIFICATION_CREDENTIALS_KEYS.
 */
export async function credentialKeyFile(dataDir: string): Promise<CredentialKey[]> {
  return (await loadOrCreateKeyFile(path.join(dataDir, "notification-credentials.key"), "local")).keys;
}
