import { createHash, randomBytes } from "node:crypto";
import { and, eq, type SQL } from "drizzle-orm";
import type { Database } from "@cloudforet/db";
import { col, defineQueryFields, listWith, type QueryInput } from "@cloudforet/query";
import { emitEvent } from "../db/emit-event";
import { apiKeys, type ApiKeyRow } from "../db/schema";
import { generatedId } from "../fields/field-rules";

export const apiKeyFields = defineQueryFields(
  {
    api_key_id: col(apiKeys.apiKeyId),
    name: col(apiKeys.name),
    user_id: col(apiKeys.userId),
    state: col(apiKeys.state),
    key_prefix: col(apiKeys.keyPrefix),
    expires_at: col(apiKeys.expiresAt),
    last_used_at: col(apiKeys.lastUsedAt),
    revoked_at: col(apiKeys.revokedAt),
    domain_id: col(apiKeys.domainId),
    created_at: col(apiKeys.createdAt),
    updated_at: col(apiKeys.updatedAt),
  },
  { keywordFields: ["api_key_id", "name", "user_id", "key_prefix"], defaultSort: [{ key: "created_at" }, { key: "api_key_id" }] },
);

/** Keys read "cfk_" + 43 url-safe characters (256 random bits). */
const KEY_MARK = "cfk_";
const PREFIX_LENGTH = 8;

/** The SHA-256 a key is stored and looked up by (the key has 256 random bits, so no salt is needed). */
export const apiKeyHash = (key: string) => createHash("sha256").update(key, "utf8").digest("hex");

const byId = (domainId: string, apiKeyId: string) => and(eq(apiKeys.domainId, domainId), eq(apiKeys.apiKeyId, apiKeyId));

export class ApiKeyRepository {
  constructor(
    private readonly db: Database,
    private readonly onCommit: () => void,
  ) {}

  /** Stores a new key's hash and returns the row with the plaintext key, which is not kept. */
  async create(input: { domainId: string; userId: string; name: string; expiresAt: Date | null }): Promise<{ row: ApiKeyRow; key: string }> {
    const key = `${KEY_MARK}${randomBytes(32).toString("base64url")}`;
    const row = await this.db.transaction(async (tx) => {
      const [created] = await tx
        .insert(apiKeys)
        .values({ ...input, apiKeyId: generatedId("apikey"), keyHash: apiKeyHash(key), keyPrefix: key.slice(0, PREFIX_LENGTH) })
        .returning();
      await emitEvent(tx, "api_key", "created", input.domainId, { domain_id: input.domainId, api_key_id: created.apiKeyId, user_id: input.userId });
      return created;
    });
    this.onCommit();
    return { row, key };
  }

  /** The key whose hash this is, whatever its state (login decides). */
  async findByKey(key: string): Promise<ApiKeyRow | undefined> {
    const [row] = await this.db.select().from(apiKeys).where(eq(apiKeys.keyHash, apiKeyHash(key)));
    return row;
  }

  async get(domainId: string, apiKeyId: string): Promise<ApiKeyRow | undefined> {
    const [row] = await this.db.select().from(apiKeys).where(byId(domainId, apiKeyId));
    return row;
  }

  /** Keys of the domain; with `owner`, only that user's. */
  list(domainId: string, query: QueryInput, owner?: string) {
    const scope: SQL[] = [eq(apiKeys.domainId, domainId)];
    if (owner !== undefined) scope.push(eq(apiKeys.userId, owner));
    return listWith(this.db, apiKeys, apiKeyFields, query, and(...scope));
  }

  /** Revokes a live key (a revoked one is returned unchanged) and announces it to every verifier. */
  async revoke(domainId: string, apiKeyId: string): Promise<ApiKeyRow | undefined> {
    const result = await this.db.transaction(async (tx) => {
      const [current] = await tx.select().from(apiKeys).where(byId(domainId, apiKeyId)).for("update");
      if (!current || current.state === "REVOKED") return { row: current, changed: false };
      const now = new Date();
      const [revoked] = await tx.update(apiKeys).set({ state: "REVOKED", revokedAt: now, updatedAt: now }).where(byId(domainId, apiKeyId)).returning();
      await emitEvent(tx, "api_key", "revoked", domainId, { domain_id: domainId, api_key_id: apiKeyId, user_id: current.userId, at: now.toISOString() });
      return { row: revoked, changed: true };
    });
    if (result.changed) this.onCommit();
    return result.row;
  }

  /** Removes the record; its tokens are refused from then on (`api_key.revoked`). */
  async delete(domainId: string, apiKeyId: string): Promise<boolean> {
    const deleted = await this.db.transaction(async (tx) => {
      const [gone] = await tx.delete(apiKeys).where(byId(domainId, apiKeyId)).returning({ userId: apiKeys.userId });
      if (!gone) return false;
      await emitEvent(tx, "api_key", "revoked", domainId, { domain_id: domainId, api_key_id: apiKeyId, user_id: gone.userId, at: new Date().toISOString() });
      return true;
    });
    if (deleted) this.onCommit();
    return deleted;
  }

  async recordUse(apiKeyId: string, at: Date): Promise<void> {
    await this.db.update(apiKeys).set({ lastUsedAt: at }).where(eq(apiKeys.apiKeyId, apiKeyId));
  }
}
