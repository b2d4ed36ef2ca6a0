import { and, count, desc, eq, gte, like, lt, lte, type SQL } from "drizzle-orm";
import type { Database } from "@cloudforet/db";
import { emitEvent } from "../db/emit-event";
import { requestLoggingSwitches, requestLogs, type RequestLoggingSwitchRow, type RequestLogRow } from "../db/schema";

export type CallerType = "USER" | "API_KEY";
export type LogMode = "TRUNCATED" | "COMPLETE";

/** Whose records a read covers: a user's (their API keys' calls included), or one API key's. */
export interface RecordOwner {
  domainId: string;
  userId: string;
  apiKeyId?: string;
}

export interface RecordFilter {
  service?: string;
  statusMin?: number;
  statusMax?: number;
  startTime: Date;
  endTime: Date;
  pathPrefix?: string;
  errorSource?: string;
  errorType?: string;
}

export type NewRequestLog = typeof requestLogs.$inferInsert;

/** The columns List returns: everything but the bodies, so paging stays cheap. */
const listColumns = {
  requestLogId: requestLogs.requestLogId,
  domainId: requestLogs.domainId,
  userId: requestLogs.userId,
  apiKeyId: requestLogs.apiKeyId,
  requestId: requestLogs.requestId,
  service: requestLogs.service,
  path: requestLogs.path,
  status: requestLogs.status,
  code: requestLogs.code,
  errorType: requestLogs.errorType,
  errorSource: requestLogs.errorSource,
  errorMessage: requestLogs.errorMessage,
  durationMs: requestLogs.durationMs,
  workspaceId: requestLogs.workspaceId,
  mode: requestLogs.mode,
  truncated: requestLogs.truncated,
  eventTimestamp: requestLogs.eventTimestamp,
};

export type RequestLogListRow = Omit<RequestLogRow, "requestBody" | "responseBody">;

const switchOf = (domainId: string, callerType: CallerType, callerId: string) =>
  and(eq(requestLoggingSwitches.domainId, domainId), eq(requestLoggingSwitches.callerType, callerType), eq(requestLoggingSwitches.callerId, callerId));

/** LIKE's wildcards in a path taken literally. */
const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

export class RequestLogRepository {
  constructor(
    private readonly db: Database,
    private readonly onCommit: () => void,
  ) {}

  async getSwitch(domainId: string, callerType: CallerType, callerId: string): Promise<RequestLoggingSwitchRow | undefined> {
    const [row] = await this.db.select().from(requestLoggingSwitches).where(switchOf(domainId, callerType, callerId));
    return row;
  }

  /**
   * Sets the caller's switch and announces it to every service, in one transaction. `mode` undefined
   * keeps the stored mode (TRUNCATED for a caller without one).
   */
  async setSwitch(domainId: string, callerType: CallerType, callerId: string, enabled: boolean, mode: LogMode | undefined): Promise<RequestLoggingSwitchRow> {
    const row = await this.db.transaction(async (tx) => {
      const [current] = await tx.select().from(requestLoggingSwitches).where(switchOf(domainId, callerType, callerId)).for("update");
      const values = { enabled, mode: mode ?? current?.mode ?? "TRUNCATED", updatedAt: new Date() };
      const [saved] = await tx
        .insert(requestLoggingSwitches)
        .values({ domainId, callerType, callerId, ...values })
        .onConflictDoUpdate({ target: [requestLoggingSwitches.domainId, requestLoggingSwitches.callerType, requestLoggingSwitches.callerId], set: values })
        .returning();
      await emitEvent(tx, "request_logging", "changed", domainId, {
        domain_id: domainId,
        caller_type: callerType,
        caller_id: callerId,
        enabled,
        mode: saved.mode,
        at: saved.updatedAt.toISOString(),
      });
      return saved;
    });
    this.onCommit();
    return row;
  }

  /** Stores a record once: a redelivered one (same id) is ignored. */
  async insert(record: NewRequestLog): Promise<void> {
    await this.db.insert(requestLogs).values(record).onConflictDoNothing({ target: requestLogs.requestLogId });
  }

  async list(owner: RecordOwner, filter: RecordFilter, skip: number, limit: number): Promise<{ rows: RequestLogListRow[]; total: number }> {
    const where = and(...this.scope(owner), ...this.filters(filter));
    const rows = await this.db
      .select(listColumns)
      .from(requestLogs)
      .where(where)
      .orderBy(desc(requestLogs.eventTimestamp), desc(requestLogs.requestLogId))
      .offset(skip)
      .limit(limit);
    const [{ total }] = await this.db.select({ total: count() }).from(requestLogs).where(where);
    return { rows, total };
  }

  async get(owner: RecordOwner, requestLogId: string): Promise<RequestLogRow | undefined> {
    const [row] = await this.db
      .select()
      .from(requestLogs)
      .where(and(...this.scope(owner), eq(requestLogs.requestLogId, requestLogId)));
    return row;
  }

  /** Deletes records older than `before`; returns how many. */
  async pruneBefore(before: Date): Promise<number> {
    const deleted = await this.db.delete(requestLogs).where(lt(requestLogs.eventTimestamp, before)).returning({ id: requestLogs.requestLogId });
    return deleted.length;
  }

  private scope(owner: RecordOwner): SQL[] {
    const scope = [eq(requestLogs.domainId, owner.domainId), eq(requestLogs.userId, owner.userId)];
    if (owner.apiKeyId) scope.push(eq(requestLogs.apiKeyId, owner.apiKeyId));
    return scope;
  }

  private filters(filter: RecordFilter): SQL[] {
    const where: SQL[] = [gte(requestLogs.eventTimestamp, filter.startTime), lte(requestLogs.eventTimestamp, filter.endTime)];
    if (filter.service) where.push(eq(requestLogs.service, filter.service));
    if (filter.statusMin !== undefined) where.push(gte(requestLogs.status, filter.statusMin));
    if (filter.statusMax !== undefined) where.push(lte(requestLogs.status, filter.statusMax));
    if (filter.pathPrefix) where.push(like(requestLogs.path, `${escapeLike(filter.pathPrefix)}%`));
    if (filter.errorSource) where.push(eq(requestLogs.errorSource, filter.errorSource));
    if (filter.errorType) where.push(eq(requestLogs.errorType, filter.errorType));
    return where;
  }
}
