import { queryRows } from "@cloudforet/db";
import { ownerWhere, type Owner, type OwnerScope } from "../access/tenants";
import { and, asc, count, eq, sql } from "drizzle-orm";
import type { Database } from "@cloudforet/db";
import { invalidParameter, missingParameter, notFound } from "@cloudforet/errors";
import { rateLimits, type RateLimitRow } from "../db/schema";
import { parseDuration } from "../definitions/durations";
import type { Page } from "../instances/repository";
import { requireText } from "../sequences/sequences";

/** Longest window a limit may have (a day): longer ones are more a quota than a rate. */
const MAX_WINDOW_MS = 86_400_000;

export interface RateLimitInput {
  maxCount: unknown;
  window: unknown;
}

/** What the engine learns when a step with a rate_limit_key wants to run. */
export type Admission = { admitted: true } | { admitted: false; retryAt: number };

const UNITS: Array<[string, number]> = [
  ["d", 86_400_000],
  ["h", 3_600_000],
  ["m", 60_000],
  ["s", 1_000],
];

/** 1000 → "1s", 90000 → "90s", 1500 → "1500ms": the largest unit that divides the window exactly. */
export function formatWindow(ms: number): string {
  for (const [unit, size] of UNITS) if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

function maxCountOf(value: unknown): number {
  if (value === undefined || value === null) throw missingParameter("max_count");
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > 2_147_483_647) {
    throw invalidParameter("max_count must be an integer ≥ 1", { parameter: "max_count" });
  }
  return value;
}

function windowOf(value: unknown): number {
  if (value === undefined || value === null || value === "") throw missingParameter("window");
  const ms = typeof value === "string" ? parseDuration(value) : undefined;
  if (ms === undefined || ms < 1 || ms > MAX_WINDOW_MS) {
    throw invalidParameter('window must be a duration from "1ms" to "1d" (e.g. "1s", "500ms", "1m")', { parameter: "window" });
  }
  return ms;
}

/**
 * Fixed-window rate limits per tenant and key, and the admission check of steps naming a
 * `rate_limit_key`. A key without a configured limit is unlimited. Windows are aligned on the
 * database clock (epoch ms / window), so every replica agrees on where a window starts.
 */
export class RateLimits {
  constructor(private readonly db: Database) {}

  /** Creates or replaces the limit of `key`; a new window size restarts the count. */
  async set(owner: Owner, key: unknown, input: RateLimitInput): Promise<RateLimitRow> {
    const name = requireText(key, "key");
    const maxCount = maxCountOf(input.maxCount);
    const windowMs = windowOf(input.window);
    const [row] = await this.db
      .insert(rateLimits)
      .values({ domainId: owner.domainId, tenantId: owner.tenantId, key: name, maxCount, windowMs })
      .onConflictDoUpdate({
        target: [rateLimits.domainId, rateLimits.tenantId, rateLimits.key],
        set: {
          maxCount,
          windowMs,
          used: sql`case when ${rateLimits.windowMs} = ${windowMs} then ${rateLimits.used} else 0 end`,
          windowStart: sql`case when ${rateLimits.windowMs} = ${windowMs} then ${rateLimits.windowStart} else 0 end`,
          updatedAt: sql`now()`,
        },
      })
      .returning();
    return row;
  }

  async get(owner: Owner, key: string): Promise<RateLimitRow> {
    const [row] = await this.db
      .select()
      .from(rateLimits)
      .where(and(ownerWhere(rateLimits, owner), eq(rateLimits.key, key)));
    if (!row) throw notFound(`rate limit ${key} not found`, { key });
    return row;
  }

  /** The limits in scope (a tenant's, or every tenant's of the domain) by key. */
  async list(scope: OwnerScope, page: Page): Promise<{ results: RateLimitRow[]; totalCount: number }> {
    const where = ownerWhere(rateLimits, scope);
    const [results, [{ total }]] = await Promise.all([
      this.db.select().from(rateLimits).where(where).orderBy(asc(rateLimits.key), asc(rateLimits.tenantId)).offset(page.offset).limit(page.limit),
      this.db.select({ total: count() }).from(rateLimits).where(where),
    ]);
    return { results, totalCount: Number(total) };
  }

  async delete(owner: Owner, key: string): Promise<void> {
    const rows = await this.db
      .delete(rateLimits)
      .where(and(ownerWhere(rateLimits, owner), eq(rateLimits.key, key)))
      .returning({ key: rateLimits.key });
    if (rows.length === 0) throw notFound(`rate limit ${key} not found`, { key });
  }

  /**
   * Counts one execution against `key` if its window has room. One guarded UPDATE: concurrent
   * callers (any replica) queue on the row and each re-checks the guard against the row it finally
   * sees, so a window never admits more than max_count. Denied: the start of the next window.
   */
  async admit({ domainId, tenantId }: Owner, key: string): Promise<Admission> {
    const [row] = await queryRows<{ limited: boolean; admitted: boolean; next_window: string | number | null }>(
      this.db,
      sql`with lim as (
            select window_ms, (floor(extract(epoch from statement_timestamp()) * 1000 / window_ms))::bigint * window_ms as cur
            from ${rateLimits} where domain_id = ${domainId} and tenant_id = ${tenantId} and key = ${key}
          ), upd as (
            update ${rateLimits} r
            set used = case when r.window_start = lim.cur then r.used + 1 else 1 end,
                window_start = lim.cur
            from lim
            where r.domain_id = ${domainId} and r.tenant_id = ${tenantId} and r.key = ${key}
              and (r.window_start <> lim.cur or r.used < r.max_count)
            returning 1
          )
          select exists (select 1 from lim) as limited,
                 exists (select 1 from upd) as admitted,
                 (select cur + window_ms from lim) as next_window`,
    );
    if (!row?.limited || row.admitted) return { admitted: true };
    return { admitted: false, retryAt: Number(row.next_window) };
  }
}
