import path from "node:path";
import { ServiceTokens, type ServiceTokenMinter } from "@cloudforet/resilience";
import { JsonSealer, loadOrCreateKeyFile, type AesKey } from "@cloudforet/runtime";

interface CallerCredentials {
  /** The caller's own Authorization header (jobs of callers who could not grant a service identity). */
  authorization: string | null;
  /** The collector's service identity credential: the job mints its own short-lived tokens with it. */
  serviceCredential?: string;
}

/**
 * What a pull job runs as, sealed onto the job so that whichever replica claims one of its tasks
 * acts as the job may: the collector's service identity (a credential it exchanges for short-lived
 * tokens, re-minted before they expire, so a collection outlives any one token and the user who
 * started it), or else the caller's own Authorization header. Never stored in the clear: the job id
 * (or the collector) is bound as associated data, the first key seals, every key opens (rotation).
 * Tokens and credentials are never logged.
 */
export class CollectionCredentials {
  private readonly sealer: JsonSealer<CallerCredentials>;
  private readonly tokens: ServiceTokens;

  constructor(keys: AesKey[], minter?: ServiceTokenMinter) {
    this.sealer = new JsonSealer(keys, "INVENTORY_CREDENTIALS_KEYS");
    this.tokens = new ServiceTokens(minter);
  }

  seal(authorization: string | null, jobId: string, serviceCredential?: string): string {
    return this.sealer.seal(serviceCredential ? { authorization: null, serviceCredential } : { authorization }, jobId);
  }

  /** A service identity credential sealed onto its collector. */
  sealServiceCredential(credential: string, domainId: string, collectorId: string): string {
    return this.sealer.seal({ authorization: null, serviceCredential: credential }, collectorBinding(domainId, collectorId));
  }

  /** The collector's service identity credential; undefined when it has none. Throws UnreadableSealError on a lost key. */
  openServiceCredential(sealed: string | null, domainId: string, collectorId: string): string | undefined {
    if (!sealed) return undefined;
    return this.sealer.open(sealed, collectorBinding(domainId, collectorId)).serviceCredential;
  }

  /**
   * The Authorization header to act with now: a current service token (re-minted when a third of its
   * life is left), or the caller's sealed header. Throws UnreadableSealError when the key is gone or the
   * value was tampered with.
   */
  async open(sealed: string | null, jobId: string): Promise<string | null> {
    if (!sealed) return null;
    const opened = this.sealer.open(sealed, jobId);
    return opened.serviceCredential ? this.authorizationFor(opened.serviceCredential) : opened.authorization;
  }

  /** `Bearer <token>` of the service identity, minted once per credential and shared until it nears expiry. */
  authorizationFor(credential: string): Promise<string> {
    return this.tokens.authorizationFor(credential);
  }
}

const collectorBinding = (domainId: string, collectorId: string) => `collector:${domainId}/${collectorId}`;

/**
 * The key to use when INVENTORY_CREDENTIALS_KEYS is unset: one generated on first start and kept
 * (mode 0600) under the data dir. Fine for replicas sharing that dir; others must share INVENTORY_CREDENTIALS_KEYS.
 */
export async function credentialKeyFile(dataDir: string): Promise<AesKey[]> {
  return (await loadOrCreateKeyFile(path.join(dataDir, "inventory-credentials.key"), "local")).keys;
}
