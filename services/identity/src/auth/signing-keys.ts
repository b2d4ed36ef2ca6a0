import { randomBytes } from "node:crypto";
import { eq, isNull, sql } from "drizzle-orm";
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK, type JWTVerifyGetKey } from "jose";
import type { Logger } from "pino";
import type { Database } from "@cloudforet/db";
import type { SecretKeyring } from "../crypto/secret-keyring";
import { signingKeys, type SigningKeyRow } from "../db/schema";

export const SIGNING_ALG = "EdDSA";

export interface ActiveSigningKey {
  kid: string;
  privateKey: CryptoKey;
}

/** How long the public key list is trusted before it is re-read (other replicas may have rotated). */
const RELOAD_MS = 60_000;
/** At most one re-read per this interval when a token names an unknown key id. */
const MISS_COOLDOWN_MS = 5_000;

const sealContext = (kid: string) => `cloudforet.identity.signing-key:${kid}`;

/**
 * Identity's token signing keys (Ed25519), kept in its schema with the private half sealed by the
 * secrets keyring. The first start generates one; the JWKS lists every key not retired.
 */
export class SigningKeyStore {
  private active?: ActiveSigningKey;
  private publicKeys = new Map<string, JWK>();
  private loadedAt = 0;
  private lastMissReload = 0;

  constructor(
    private readonly db: Database,
    private readonly keyring: SecretKeyring,
    private readonly logger: Logger,
  ) {}

  /**
   * Makes sure one active key exists (generated on first start; replicas starting together agree
   * through an advisory lock and a unique index) and re-seals it when the secrets key rotated.
   */
  async ensureActiveKey(): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext('cloudforet:identity:signing-keys'))`);
      const [current] = await tx.select().from(signingKeys).where(eq(signingKeys.active, true));
      if (!current) {
        const { privateKey, publicKey } = await generateKeyPair(SIGNING_ALG, { crv: "Ed25519", extractable: true });
        const kid = `ik-${new Date().toISOString().slice(0, 10)}-${randomBytes(4).toString("hex")}`;
        const sealed = this.keyring.seal(JSON.stringify(await exportJWK(privateKey)), sealContext(kid));
        await tx.insert(signingKeys).values({
          kid,
          publicJwk: { ...(await exportJWK(publicKey)), kid, alg: SIGNING_ALG, use: "sig" },
          privateKeyCiphertext: sealed.ciphertext,
          keyId: sealed.keyId,
          active: true,
        });
        this.logger.info({ kid }, "generated the token signing key");
        return;
      }
      if (current.keyId !== this.keyring.activeKeyId && this.keyring.has(current.keyId)) {
        const plain = this.keyring.open({ keyId: current.keyId, ciphertext: current.privateKeyCiphertext }, sealContext(current.kid));
        const sealed = this.keyring.seal(plain, sealContext(current.kid));
        await tx.update(signingKeys).set({ privateKeyCiphertext: sealed.ciphertext, keyId: sealed.keyId }).where(eq(signingKeys.kid, current.kid));
        this.logger.info({ kid: current.kid, key_id: sealed.keyId }, "re-sealed the token signing key with the active secrets key");
      }
    });
    await this.reload();
  }

  /** The key new tokens are signed with. */
  async signer(): Promise<ActiveSigningKey> {
    if (!this.active || Date.now() - this.loadedAt > RELOAD_MS) await this.reload();
    return this.active!;
  }

  /** The JWKS: public parts of every key not retired. */
  async jwks(): Promise<JWK[]> {
    if (Date.now() - this.loadedAt > RELOAD_MS) await this.reload();
    return [...this.publicKeys.values()];
  }

  /** A jose key resolver over this store, for verifying identity's own tokens without HTTP. */
  readonly getKey: JWTVerifyGetKey = async (header) => {
    let jwk = header.kid ? this.publicKeys.get(header.kid) : undefined;
    if (!jwk && Date.now() - this.lastMissReload > MISS_COOLDOWN_MS) {
      this.lastMissReload = Date.now();
      await this.reload();
      jwk = header.kid ? this.publicKeys.get(header.kid) : undefined;
    }
    if (!jwk || header.alg !== SIGNING_ALG) throw Object.assign(new Error("no signing key matches the token"), { code: "ERR_JWKS_NO_MATCHING_KEY" });
    return importJWK(jwk, SIGNING_ALG) as Promise<CryptoKey>;
  };

  private async reload(): Promise<void> {
    const rows: SigningKeyRow[] = await this.db.select().from(signingKeys).where(isNull(signingKeys.retiredAt));
    const active = rows.find((r) => r.active);
    if (!active) throw new Error("identity has no active token signing key");
    if (this.active?.kid !== active.kid) {
      if (!this.keyring.has(active.keyId)) {
        throw new Error(`the token signing key is sealed with secrets key "${active.keyId}", which IDENTITY_SECRET_KEYS no longer lists`);
      }
      const jwk = JSON.parse(this.keyring.open({ keyId: active.keyId, ciphertext: active.privateKeyCiphertext }, sealContext(active.kid))) as JWK;
      this.active = { kid: active.kid, privateKey: (await importJWK(jwk, SIGNING_ALG)) as CryptoKey };
    }
    this.publicKeys = new Map(rows.map((r) => [r.kid, r.publicJwk]));
    this.loadedAt = Date.now();
  }
}

