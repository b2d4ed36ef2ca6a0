import type { JsonObject } from "@bufbuild/protobuf";
import { and, eq, inArray } from "drizzle-orm";
import type { Database } from "@cloudforet/db";
import { isUniqueViolation } from "@cloudforet/db";
import { conflict, illegalTransition } from "@cloudforet/errors";
import { enqueueEvent, eventSubject } from "@cloudforet/events";
import { col, defineQueryFields, json, listWith, type QueryInput } from "@cloudforet/query";
import { scopeCondition, type Scope } from "../access/scope";
import { collectors, jobs, outbox, type CollectorRow, type CollectorSchedule } from "../db/schema";
import { RUNNING_STATUSES } from "../jobs/status";

export const collectorFields = defineQueryFields(
  {
    collector_id: col(collectors.collectorId),
    name: col(collectors.name),
    provider: col(collectors.provider),
    plugin_endpoint: col(collectors.pluginEndpoint),
    plugin_options: json(collectors.pluginOptions),
    plugin_metadata: json(collectors.pluginMetadata),
    schedule: json(collectors.schedule),
    tags: json(collectors.tags),
    last_collected_at: col(collectors.lastCollectedAt, "datetime"),
    workspace_id: col(collectors.workspaceId),
    domain_id: col(collectors.domainId),
    created_at: col(collectors.createdAt, "datetime"),
    updated_at: col(collectors.updatedAt, "datetime"),
  },
  { keywordFields: ["name", "collector_id", "provider"], defaultSort: [{ key: "created_at" }, { key: "collector_id" }] },
);

export interface NewCollector {
  domainId: string;
  collectorId: string;
  workspaceId: string;
  name: string;
  provider: string;
  pluginEndpoint: string;
  pluginOptions: JsonObject;
  schedule: CollectorSchedule | null;
  tags: Record<string, string>;
}

export type CollectorPatch = Partial<Pick<CollectorRow, "name" | "pluginEndpoint" | "pluginOptions" | "pluginMetadata" | "schedule" | "tags">>;

const inScope = (scope: Scope) => scopeCondition(scope, { domainId: collectors.domainId, workspaceId: collectors.workspaceId });
const collectorEvent = (event: string) => eventSubject("inventory", "collector", event);

export class CollectorRepository {
  constructor(
    private readonly db: Database,
    private readonly onCommit: () => void,
  ) {}

  async create(input: NewCollector): Promise<CollectorRow> {
    try {
      const row = await this.db.transaction(async (tx) => {
        const [created] = await tx.insert(collectors).values(input).returning();
        await enqueueEvent(tx, outbox, {
          subject: collectorEvent("created"),
          domainId: input.domainId,
          data: { collector_id: created.collectorId, workspace_id: created.workspaceId, provider: created.provider },
        });
        return created;
      });
      this.onCommit();
      return row;
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict("Collector already exists", { collector_id: input.collectorId });
      throw err;
    }
  }

  async get(scope: Scope, collectorId: string): Promise<CollectorRow | undefined> {
    const [row] = await this.db.select().from(collectors).where(and(eq(collectors.collectorId, collectorId), inScope(scope)));
    return row;
  }

  list(scope: Scope, query: QueryInput) {
    return listWith(this.db, collectors, collectorFields, query, inScope(scope));
  }

  /** Applies a patch built from the current row, under a row lock. */
  async update(scope: Scope, collectorId: string, build: (current: CollectorRow) => CollectorPatch): Promise<CollectorRow | undefined> {
    const row = await this.db.transaction(async (tx) => {
      const [current] = await tx
        .select()
        .from(collectors)
        .where(and(eq(collectors.collectorId, collectorId), inScope(scope)))
        .for("update");
      if (!current) return undefined;
      const [updated] = await tx
        .update(collectors)
        .set({ ...build(current), updatedAt: new Date() })
        .where(and(eq(collectors.domainId, current.domainId), eq(collectors.collectorId, collectorId)))
        .returning();
      await enqueueEvent(tx, outbox, { subject: collectorEvent("updated"), domainId: current.domainId, data: { collector_id: collectorId, workspace_id: current.workspaceId } });
      return updated;
    });
    if (row) this.onCommit();
    return row;
  }

  /** Stores what the plugin's Init said about itself. */
  async storeMetadata(domainId: string, collectorId: string, metadata: JsonObject): Promise<void> {
    await this.db
      .update(collectors)
      .set({ pluginMetadata: metadata, updatedAt: new Date() })
      .where(and(eq(collectors.domainId, domainId), eq(collectors.collectorId, collectorId)));
  }

  /** Deletes the collector unless one of its jobs is running; false when it is not in scope. */
  async delete(scope: Scope, collectorId: string): Promise<boolean> {
    const deleted = await this.db.transaction(async (tx) => {
      const [current] = await tx
        .select()
        .from(collectors)
        .where(and(eq(collectors.collectorId, collectorId), inScope(scope)))
        .for("update");
      if (!current) return false;
      const [running] = await tx
        .select({ jobId: jobs.jobId })
        .from(jobs)
        .where(and(eq(jobs.domainId, current.domainId), eq(jobs.collectorId, collectorId), inArray(jobs.status, [...RUNNING_STATUSES])))
        .limit(1);
      if (running) throw illegalTransition("A job of this collector is still running", { collector_id: collectorId, job_id: running.jobId });
      await tx.delete(collectors).where(and(eq(collectors.domainId, current.domainId), eq(collectors.collectorId, collectorId)));
      await enqueueEvent(tx, outbox, { subject: collectorEvent("deleted"), domainId: current.domainId, data: { collector_id: collectorId, workspace_id: current.workspaceId } });
      return true;
    });
    if (deleted) this.onCommit();
    return deleted;
  }
}
