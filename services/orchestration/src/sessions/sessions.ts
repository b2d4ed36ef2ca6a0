import { randomUUID } from "node:crypto";
import { and, asc, desc, eq, sql } from "drizzle-orm";
import type { Database } from "@cloudforet/db";
import { isUniqueViolation } from "@cloudforet/db";
import { conflict, invalidParameter, missingParameter, notFound, payloadTooLarge } from "@cloudforet/errors";
import { ownerWhere, requireInScope, type Owner, type OwnerScope } from "../access/tenants";
import { instances, sessions, type InstanceRow, type SessionRow } from "../db/schema";
import { isUuid } from "../ids";
import type { Page } from "../instances/repository";
import { optionalTime } from "../rest/rest-input";

export const SESSION_STATES = ["active", "completed", "expired"] as const;
export type SessionState = (typeof SESSION_STATES)[number];

/** The largest session data (JSON bytes), as large as an instance context by default. */
const MAX_SESSION_DATA_BYTES = 262_144;

export interface NewSession {
  sessionKey: unknown;
  data?: unknown;
  expiresAt?: unknown;
}

function sessionKeyOf(value: unknown): string {
  if (value === undefined || value === null || value === "") throw missingParameter("session_key");
  if (typeof value !== "string" || value.length > 512) throw invalidParameter("session_key must be between 1 and 512 characters", { parameter: "session_key" });
  return value;
}

function dataOf(value: unknown): unknown {
  if (value === undefined || value === null) return {};
  const bytes = Buffer.byteLength(JSON.stringify(value));
  if (bytes > MAX_SESSION_DATA_BYTES) throw payloadTooLarge(`session data is ${bytes} bytes; at most ${MAX_SESSION_DATA_BYTES}`, { parameter: "data", limit: String(MAX_SESSION_DATA_BYTES) });
  return value;
}

/**
 * Orch8 sessions: a key per tenant (`user:123:onboarding`) with data shared by the instances that
 * name it in their metadata (`metadata.session_id`), a state (active, completed, expired) and an
 * optional expiry after which an active session reads as expired.
 */
export class Sessions {
  constructor(private readonly db: Database) {}

  async create(owner: Owner, input: NewSession): Promise<SessionRow> {
    const sessionKey = sessionKeyOf(input.sessionKey);
    const data = dataOf(input.data);
    const expiresAt = optionalTime(input.expiresAt, "expires_at") ?? null;
    try {
      const [row] = await this.db.insert(sessions).values({ id: randomUUID(), domainId: owner.domainId, tenantId: owner.tenantId, sessionKey, data, expiresAt }).returning();
      return row;
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict(`session ${sessionKey} already exists`, { session_key: sessionKey });
      throw err;
    }
  }

  async get(scope: OwnerScope, id: string): Promise<SessionRow> {
    const [row] = isUuid(id) ? await this.db.select().from(sessions).where(eq(sessions.id, id.toLowerCase())) : [];
    return requireInScope(row, scope, "session", id);
  }

  async getByKey(owner: Owner, key: string): Promise<SessionRow> {
    if (key.length > 512) throw invalidParameter("session key exceeds maximum length of 512", { parameter: "key" });
    const [row] = await this.db
      .select()
      .from(sessions)
      .where(and(ownerWhere(sessions, owner), eq(sessions.sessionKey, key)));
    if (!row) throw notFound("session not found", { session_key: key });
    return row;
  }

  async list(scope: OwnerScope, state: string | undefined, page: Page): Promise<SessionRow[]> {
    const wanted = state === undefined ? undefined : stateOf(state);
    return this.db
      .select()
      .from(sessions)
      .where(and(ownerWhere(sessions, scope), wanted ? stateCondition(wanted) : undefined))
      .orderBy(asc(sessions.createdAt), asc(sessions.id))
      .offset(page.offset)
      .limit(page.limit);
  }

  /** Replaces the session's data. */
  async updateData(scope: OwnerScope, id: string, data: unknown): Promise<SessionRow> {
    if (data === undefined) throw missingParameter("data");
    const current = await this.get(scope, id);
    const [row] = await this.db.update(sessions).set({ data: dataOf(data), updatedAt: new Date() }).where(eq(sessions.id, current.id)).returning();
    return row;
  }

  async updateState(scope: OwnerScope, id: string, state: unknown): Promise<SessionRow> {
    if (state === undefined || state === null || state === "") throw missingParameter("state");
    const next = stateOf(state);
    const current = await this.get(scope, id);
    const [row] = await this.db.update(sessions).set({ state: next, updatedAt: new Date() }).where(eq(sessions.id, current.id)).returning();
    return row;
  }

  /** The instances naming the session in `metadata.session_id`, newest first. */
  async instances(scope: OwnerScope, id: string, page: Page): Promise<InstanceRow[]> {
    const session = await this.get(scope, id);
    return this.db
      .select()
      .from(instances)
      .where(and(eq(instances.domainId, session.domainId), eq(instances.tenantId, session.tenantId), sql`${instances.metadata}->>'session_id' = ${session.id}`))
      .orderBy(desc(instances.createdAt), asc(instances.id))
      .offset(page.offset)
      .limit(page.limit);
  }
}

function stateOf(value: unknown): SessionState {
  if (typeof value !== "string" || !(SESSION_STATES as readonly string[]).includes(value)) {
    throw invalidParameter(`state must be one of ${SESSION_STATES.join(", ")}`, { parameter: "state" });
  }
  return value as SessionState;
}

/** An active session past its expiry counts as expired. */
function stateCondition(state: SessionState) {
  if (state === "active") return sql`${sessions.state} = 'active' and (${sessions.expiresAt} is null or ${sessions.expiresAt} > now())`;
  if (state === "expired") return sql`(${sessions.state} = 'expired' or (${sessions.state} = 'active' and ${sessions.expiresAt} <= now()))`;
  return eq(sessions.state, state);
}

/** The state a session reads as now. */
export function effectiveState(row: SessionRow, now = Date.now()): string {
  return row.state === "active" && row.expiresAt && row.expiresAt.getTime() <= now ? "expired" : row.state;
}
