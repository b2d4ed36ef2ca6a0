import type { JsonObject } from "@bufbuild/protobuf";
import type { Sealed, SecretKeyring } from "../crypto/secret-keyring";

/**
 * Seals a secret's value for one row: the ciphertext is bound to the domain and secret id, so it
 * cannot be replayed onto another secret. The plaintext exists only in memory, never in a row.
 */
export class SecretVault {
  constructor(private readonly keyring: SecretKeyring) {}

  seal(domainId: string, secretId: string, data: JsonObject): Sealed {
    return this.keyring.seal(JSON.stringify(data), context(domainId, secretId));
  }

  open(domainId: string, secretId: string, sealed: Sealed): JsonObject {
    return JSON.parse(this.keyring.open(sealed, context(domainId, secretId))) as JsonObject;
  }
}

const context = (domainId: string, secretId: string) => `cloudforet.identity.secret:${domainId}/${secretId}`;
