import type { JsonObject } from "@bufbuild/protobuf";
import { and, asc, eq, isNull, lt, or, sql } from "drizzle-orm";
import type { Database } from "@cloudforet/db";
import { illegalTransition } from "@cloudforet/errors";
import { col, defineQueryFields, json, listWith, type QueryInput, scopeCondition, type TenantScope } from "@cloudforet/query";
import { enrollments, type EnrollmentRow, type EnrollmentStatus } from "../db/schema";
import { canCancel } from "./enrollments";

export const enrollmentFields = defineQueryFields(
  {
    enrollment_id: col(enrollments.enrollmentId),
    plugin_id: col(enrollments.pluginId),
    version: col(enrollments.version),
    resolved_version: col(enrollments.resolvedVersion),
    status: col(enrollments.status),
    reason: col(enrollments.reason),
    parameters: json(enrollments.maskedParameters),
    workspace_id: col(enrollments.workspaceId),
    domain_id: col(enrollments.domainId),
    created_at: col(enrollments.createdAt, "datetime"),
    updated_at: col(enrollments.updatedAt, "datetime"),
    verified_at: col(enrollments.verifiedAt, "datetime"),
  },
  { keywordFields: ["enrollment_id", "plugin_id"], defaultSort: [{ key: "created_at" }, { key: "enrollment_id" }] },
);

/** Domain-wide enrollments (workspace '') are visible to every member of the domain. */
const inScope = (scope: TenantScope) => scopeCondition(scope, { domainId: enrollments.domainId, workspaceId: enrollments.workspaceId }, { domainWideRows: true });
const key = (domainId: string, enrollmentId: string) => and(eq(enrollments.domainId, domainId), eq(enrollments.enrollmentId, enrollmentId));

export interface NewEnrollment {
  domainId: string;
  enrollmentId: string;
  workspaceId: string;
  pluginId: string;
  version: string;
  maskedParameters: JsonObject;
  sealedParameters: string;
}

export class EnrollmentRepository {
  constructor(private readonly db: Database) {}

  async create(input: NewEnrollment): Promise<EnrollmentRow> {
    const [row] = await this.db.insert(enrollments).values(input).returning();
    return row;
  }

  async get(scope: TenantScope, enrollmentId: string): Promise<EnrollmentRow | undefined> {
    const [row] = await this.db.select().from(enrollments).where(and(eq(enrollments.enrollmentId, enrollmentId), inScope(scope)));
    return row;
  }

  list(scope: TenantScope, query: QueryInput) {
    return listWith(this.db, enrollments, enrollmentFields, query, inScope(scope));
  }

  async cancel(domainId: string, enrollmentId: string): Promise<EnrollmentRow | undefined> {
    return this.db.transaction(async (tx) => {
      const [current] = await tx.select().from(enrollments).where(key(domainId, enrollmentId)).for("update");
      if (!current) return undefined;
      if (!canCancel(current.status)) throw illegalTransition("The enrollment is already CANCELLED", { enrollment_id: enrollmentId });
      const [row] = await tx.update(enrollments).set({ status: "CANCELLED", claimedUntil: null, updatedAt: new Date() }).where(key(domainId, enrollmentId)).returning();
      return row;
    });
  }

  /** PENDING enrollments nobody holds (or whose holder's lease ran out), held by the caller for `leaseMs`. */
  async claimPending(limit: number, leaseMs: number): Promise<EnrollmentRow[]> {
    return this.db.transaction(async (tx) => {
      const now = new Date();
      const due = await tx
        .select()
        .from(enrollments)
        .where(and(eq(enrollments.status, "PENDING"), or(isNull(enrollments.claimedUntil), lt(enrollments.claimedUntil, now))))
        .orderBy(asc(enrollments.createdAt))
        .limit(limit)
        .for("update", { skipLocked: true });
      if (due.length === 0) return [];
      const until = new Date(now.getTime() + leaseMs);
      for (const row of due) await tx.update(enrollments).set({ claimedUntil: until }).where(key(row.domainId, row.enrollmentId));
      return due.map((row) => ({ ...row, claimedUntil: until }));
    });
  }

  /** Ends verification (ACTIVE or FAILED) unless the enrollment was cancelled meanwhile. */
  async finish(row: EnrollmentRow, outcome: { status: Exclude<EnrollmentStatus, "PENDING" | "CANCELLED">; reason: string; resolvedVersion: string }): Promise<void> {
    const now = new Date();
    await this.db
      .update(enrollments)
      .set({ ...outcome, attempts: sql`${enrollments.attempts} + 1`, claimedUntil: null, verifiedAt: now, updatedAt: now })
      .where(and(key(row.domainId, row.enrollmentId), eq(enrollments.status, "PENDING")));
  }

  /** Leaves the enrollment PENDING for another attempt after `retryAt`. */
  async retryLater(row: EnrollmentRow, retryAt: Date, reason: string): Promise<void> {
    await this.db
      .update(enrollments)
      .set({ attempts: sql`${enrollments.attempts} + 1`, claimedUntil: retryAt, reason, updatedAt: new Date() })
      .where(and(key(row.domainId, row.enrollmentId), eq(enrollments.status, "PENDING")));
  }
}
