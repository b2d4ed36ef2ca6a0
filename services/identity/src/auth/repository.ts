import { and, eq, gt, inArray, isNull, lt, sql, type SQL } from "drizzle-orm";
import type { Database } from "@cloudforet/db";
import { loginThrottles, refreshTokens } from "../db/schema";

export type RefreshOutcome = "ok" | "unknown" | "reused";

/** One throttle counter and how many failures it allows before waits begin. */
export interface ThrottleKey {
  key: string;
  freeAttempts: number;
}

/** The doubling wait: `baseMs` after the free failures, twice that after each further one, at most `maxMs`. */
export interface Backoff {
  baseMs: number;
  maxMs: number;
  /** A counter idle this long starts again from zero. */
  forgetMs: number;
}

export type Reservation = { reserved: true } | { reserved: false; retryAfterMs: number };

/** Thrown inside the reservation transaction to roll it back when a key is blocked. */
class Blocked extends Error {}

/** Refresh tokens (single use) and failed-login throttles: the state login keeps besides users and keys. */
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

  /** Drops expired refresh tokens and throttle counters idle long enough to be forgotten. */
  async prune(now: Date, forgetMs: number): Promise<void> {
    await this.db.delete(refreshTokens).where(lt(refreshTokens.expiresAt, now));
    await this.db.delete(loginThrottles).where(lt(loginThrottles.lastFailureAt, new Date(now.getTime() - forgetMs)));
  }

  /**
   * Counts one attempt against every key before the password is checked, in one transaction, so
   * parallel guesses (on any replica) cannot all slip through before the first failure is written: the
   * row lock orders them and the one past the allowance finds the key blocked. A blocked key refuses
   * the whole attempt and counts nothing, so waiting out the delay is the only way forward.
   */
  async reserveAttempt(keys: ThrottleKey[], backoff: Backoff, now: Date): Promise<Reservation> {
    const nowIso = now.toISOString();
    const ordered = [...keys].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)); // one lock order: no deadlocks
    try {
      await this.db.transaction(async (tx) => {
        for (const { key, freeAttempts } of ordered) {
          const counted = sql`case when ${loginThrottles.lastFailureAt} < ${new Date(now.getTime() - backoff.forgetMs).toISOString()}::timestamptz then 1 else ${loginThrottles.failures} + 1 end`;
          const reserved = await tx
            .insert(loginThrottles)
            .values({ key, failures: 1, lastFailureAt: now, blockedUntil: blockedUntil(1, freeAttempts, backoff, now) })
            .onConflictDoUpdate({
              target: loginThrottles.key,
              set: { failures: counted, lastFailureAt: now, blockedUntil: waitSql(counted, freeAttempts, backoff, nowIso) },
              setWhere: sql`${loginThrottles.blockedUntil} is null or ${loginThrottles.blockedUntil} <= ${nowIso}::timestamptz`,
            })
            .returning({ key: loginThrottles.key });
          if (reserved.length === 0) throw new Blocked();
        }
      });
      return { reserved: true };
    } catch (err) {
      if (!(err instanceof Blocked)) throw err;
    }
    const rows = await this.db
      .select({ blockedUntil: loginThrottles.blockedUntil })
      .from(loginThrottles)
      .where(inArray(loginThrottles.key, keys.map((k) => k.key)));
    const until = Math.max(...rows.map((row) => row.blockedUntil?.getTime() ?? 0));
    return { reserved: false, retryAfterMs: Math.max(1, until - now.getTime()) };
  }

  /**
   * Restarts the waits of a failed attempt's keys from now: the wait reserveAttempt set ran from the
   * start of the attempt, and a slow password hash would otherwise use up a short wait by itself.
   */
  async confirmFailure(keys: ThrottleKey[], backoff: Backoff, now: Date): Promise<void> {
    const nowIso = now.toISOString();
    for (const { key, freeAttempts } of keys) {
      await this.db
        .update(loginThrottles)
        .set({ lastFailureAt: now, blockedUntil: sql`greatest(${loginThrottles.blockedUntil}, ${waitSql(sql`${loginThrottles.failures}`, freeAttempts, backoff, nowIso)})` })
        .where(eq(loginThrottles.key, key));
    }
  }

  /**
   * Takes back the attempt a successful login reserved: `forget` keys (the account from this
   * address) start again from zero; the others only lose this one count, so a success in between
   * does not wipe out the failures a sprayer or a distributed guesser piled up.
   */
  async releaseAttempt(keys: ThrottleKey[], forget: string[], backoff: Backoff): Promise<void> {
    if (forget.length > 0) await this.db.delete(loginThrottles).where(inArray(loginThrottles.key, forget));
    for (const { key, freeAttempts } of keys) {
      if (forget.includes(key)) continue;
      const remaining = sql`greatest(${loginThrottles.failures} - 1, 0)`;
      await this.db
        .update(loginThrottles)
        .set({ failures: remaining, blockedUntil: waitSql(remaining, freeAttempts, backoff, sql`${loginThrottles.lastFailureAt}`) })
        .where(eq(loginThrottles.key, key));
    }
  }
}

/** When a key with `failures` failures at `now` may try again (null: at once). */
function blockedUntil(failures: number, freeAttempts: number, backoff: Backoff, now: Date): Date | null {
  if (failures < freeAttempts) return null;
  return new Date(now.getTime() + Math.min(backoff.baseMs * 2 ** (failures - freeAttempts), backoff.maxMs));
}

/** blockedUntil() in SQL, for a failure count computed in the same statement. */
function waitSql(failures: SQL, freeAttempts: number, backoff: Backoff, from: string | SQL): SQL {
  const start = typeof from === "string" ? sql`${from}::timestamptz` : from;
  // least() before power() overflows: 2^60 ms is far past any cap.
  return sql`case when ${failures} >= ${freeAttempts}::int
    then ${start} + least(${backoff.baseMs}::float8 * power(2::float8, least(${failures} - ${freeAttempts}::int, 60)), ${backoff.maxMs}::float8) * interval '1 millisecond'
    else null end`;
}
