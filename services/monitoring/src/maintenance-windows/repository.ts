import { randomUUID } from "node:crypto";
import { and, eq, sql } from "drizzle-orm";
import type { Database, DatabaseExecutor } from "@cloudforet/db";
import { col, defineQueryFields, json, listWith, scopeCondition, type QueryInput, type TenantScope } from "@cloudforet/query";
import { maintenanceWindows, type MaintenanceWindowRow } from "../db/schema";

export const maintenanceWindowFields = defineQueryFields(
  {
    maintenance_window_id: col(maintenanceWindows.maintenanceWindowId),
    name: col(maintenanceWindows.name),
    matchers: json(maintenanceWindows.matchers),
    starts_at: col(maintenanceWindows.startsAt),
    ends_at: col(maintenanceWindows.endsAt),
    recurrence: col(maintenanceWindows.recurrence),
    repeat_until: col(maintenanceWindows.repeatUntil),
    comment: col(maintenanceWindows.comment),
    created_by: col(maintenanceWindows.createdBy),
    domain_id: col(maintenanceWindows.domainId),
    workspace_id: col(maintenanceWindows.workspaceId),
    created_at: col(maintenanceWindows.createdAt),
  },
  { keywordFields: ["name", "comment"], defaultSort: [{ key: "created_at" }, { key: "maintenance_window_id" }] },
);

export type NewMaintenanceWindow = Omit<typeof maintenanceWindows.$inferInsert, "maintenanceWindowId" | "createdAt">;

const readable = (scope: TenantScope) => scopeCondition(scope, maintenanceWindows, { domainWideRows: true });

export class MaintenanceWindowRepository {
  constructor(private readonly db: Database) {}

  async create(values: NewMaintenanceWindow): Promise<MaintenanceWindowRow> {
    const [row] = await this.db.insert(maintenanceWindows).values({ ...values, maintenanceWindowId: `maintenance-window-${randomUUID()}` }).returning();
    return row;
  }

  async get(scope: TenantScope, id: string): Promise<MaintenanceWindowRow | undefined> {
    const [row] = await this.db.select().from(maintenanceWindows).where(and(readable(scope), eq(maintenanceWindows.maintenanceWindowId, id)));
    return row;
  }

  list(scope: TenantScope, query: QueryInput) {
    return listWith(this.db, maintenanceWindows, maintenanceWindowFields, query, readable(scope));
  }

  /** Ends the window now: no later occurrence either. */
  async expire(row: MaintenanceWindowRow): Promise<MaintenanceWindowRow> {
    const [updated] = await this.db
      .update(maintenanceWindows)
      .set({ endsAt: sql`greatest(${maintenanceWindows.startsAt} + interval '1 millisecond', now())`, recurrence: "ONCE", repeatUntil: null })
      .where(eq(maintenanceWindows.maintenanceWindowId, row.maintenanceWindowId))
      .returning();
    return updated;
  }

  async delete(row: MaintenanceWindowRow): Promise<boolean> {
    const deleted = await this.db.delete(maintenanceWindows).where(eq(maintenanceWindows.maintenanceWindowId, row.maintenanceWindowId)).returning({ id: maintenanceWindows.maintenanceWindowId });
    return deleted.length > 0;
  }

  /** Windows that may silence an alert of this workspace: its own and the domain-wide ones. */
  async applicable(executor: DatabaseExecutor, domainId: string, workspaceId: string): Promise<MaintenanceWindowRow[]> {
    return executor
      .select()
      .from(maintenanceWindows)
      .where(and(eq(maintenanceWindows.domainId, domainId), sql`${maintenanceWindows.workspaceId} in (${workspaceId}, '')`));
  }
}
