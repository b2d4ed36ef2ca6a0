import { and, eq, gt, isNull, lt, sql } from "drizzle-orm";
import type { Database } from "@cloudforet/db";
import { loginFailures, refreshTokens } from "../db/schema";

export type RefreshOutcome = "ok" | "unknown" | "reused";

/** Refresh tokens (single use) and failed-login counters: the state login keeps besides users and keys. */
export class AuthRepository {
  constructor(private readonly db: Database) {}

  async storeRefreshToken(input: { jti: string; domainId: string; userId: string; apiKeyId?: string; expiresAt: Date }): Promise<void> {
    await this.db.insert(refreshTokens).values({ ...input, apiKeyId: input.apiKeyId ?? null });
  }

  /**
   * Uses up a refresh token. A token presented a second time means it leaked: every refresh token
   * of that user is revoked, so the thief's copy and the owner's session both end.
   */
  async consumeRefreshToken(jti: string, now: Date): Promise<RefreshOutcome> {
    const used = await this.db
      .update(refreshTokens)
      .set({ usedAt: now })
      .where(and(eq(refreshTokens.jti, jti), isNull(refreshTokens.usedAt), isNull(refreshTokens.revokedAt), gt(refreshTokens.expiresAt, now)))
      .returning({ jti: refreshTokens.jti });
    if (used.length > 0) return "ok";
    const [known] = await this.db.select().from(refreshTokens).where(eq(refreshTokens.jti, jti));
    if (!known?.usedAt) return "unknown";
    await this.db
      .update(refreshTokens)
      .set({ revokedAt: now })
      .where(and(eq(refreshTokens.domainId, known.domainId), eq(refreshTokens.userId, known.userId), isNull(refreshTokens.revokedAt)));
    return "reused";
  }

  /** Drops expired refresh tokens and failure counters of windows long over. */
  async prune(now: Date, windowMs: number): Promise<void> {
    await this.db.delete(refreshTokens).where(lt(refreshTokens.expiresAt, now));
    await this.db.delete(loginFailures).where(lt(loginFailures.windowStartedAt, new Date(now.getTime() - windowMs - 3_600_000)));
  }

  /** How long until (domain, user id) may try again, or 0 when it may now. */
  async lockedForMs(domainId: string, userId: string, limit: { maxFailures: number; windowMs: number }, now: Date): Promise<number> {
    const [row] = await this.db
      .select()
      .from(loginFailures)
      .where(and(eq(loginFailures.domainId, domainId), eq(loginFailures.userId, userId)));
    if (!row || row.failures < limit.maxFailures) return 0;
    return Math.max(0, row.windowStartedAt.getTime() + limit.windowMs - now.getTime());
  }

  /** Counts a failure in the current window, starting a new window when the last one is over. */
  async recordFailure(domainId: string, userId: string, windowMs: number, now: Date): Promise<void> {
    const windowStart = new Date(now.getTime() - windowMs).toISOString();
    const nowIso = now.toISOString();
    await this.db
      .insert(loginFailures)
      .values({ domainId, userId, failures: 1, windowStartedAt: now })
      .onConflictDoUpdate({
        target: [loginFailures.domainId, loginFailures.userId],
        set: {
          failures: sql`case when ${loginFailures.windowStartedAt} <= ${windowStart}::timestamptz then 1 else ${loginFailures.failures} + 1 end`,
          windowStartedAt: sql`case when ${loginFailures.windowStartedAt} <= ${windowStart}::timestamptz then ${nowIso}::timestamptz else ${loginFailures.windowStartedAt} end`,
        },
      });
  }

  async clearFailures(domainId: string, userId: string): Promise<void> {
    await this.db.delete(loginFailures).where(and(eq(loginFailures.domainId, domainId), eq(loginFailures.userId, userId)));
  }
}
