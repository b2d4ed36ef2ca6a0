import path from "node:path";
import { Keyring, UnknownKeyError, loadOrCreateKeyFile, parseKeyList, type AesKey, type Sealed } from "@cloudforet/runtime";

/** One AES-256 key of IDENTITY_SECRET_KEYS. */
export type SecretKey = AesKey;
export type { Sealed };

/** Parses IDENTITY_SECRET_KEYS (`kid1:base64key,kid2:base64key`); messages complete "IDENTITY_SECRET_KEYS …". */
export const parseSecretKeys = parseKeyList;

/** The keyring of secrets and signing keys at rest; an unknown key id is reported by its variable. */
export class SecretKeyring extends Keyring {
  override open(sealed: Sealed, context: string): string {
    try {
      return super.open(sealed, context);
    } catch (err) {
      if (err instanceof UnknownKeyError) throw new Error(`secret key "${err.keyId}" is not in IDENTITY_SECRET_KEYS`);
      throw err;
    }
  }
}

/**
 * The embedded mode's key: generated once into `<dataDir>/identity/secret-keys` (mode 0600) and
 * read back on every later start.
 */
export async function embeddedSecretKeys(dataDir: string): Promise<{ keys: SecretKey[]; file: string; created: boolean }> {
  const file = path.join(dataDir, "identity", "secret-keys");
  try {
    return await loadOrCreateKeyFile(file, `embedded-${Date.now().toString(36)}`);
  } catch (err) {
    throw new Error(`${(err as Error).message}; restore it or set IDENTITY_SECRET_KEYS`);
  }
}
