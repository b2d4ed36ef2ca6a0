import type { JsonObject } from "@bufbuild/protobuf";
import { and, eq, inArray } from "drizzle-orm";
import type { Database } from "@cloudforet/db";
import { isUniqueViolation } from "@cloudforet/db";
import { conflict, illegalTransition } from "@cloudforet/errors";
import { enqueueEvent, eventSubject } from "@cloudforet/events";
import { col, defineQueryFields, json, listWith, type QueryInput, scopeCondition, type TenantScope } from "@cloudforet/query";
import { collectors, jobs, outbox, type CollectorRow, type CollectorSchedule } from "../db/schema";
import { RUNNING_STATUSES } from "../jobs/status";
import { nextFireTime } from "../schedules/next-fire";
import { noticeSchedulesChanged } from "../schedules/schedule-notices";

export const collectorFields = defineQueryFields(
  {
    collector_id: col(collectors.collectorId),
    name: col(collectors.name),
    provider: col(collectors.provider),
    plugin_endpoint: col(collectors.pluginEndpoint),
    plugin_id: col(collectors.pluginId),
    plugin_version: col(collectors.pluginVersion),
    plugin_options: json(collectors.pluginOptions),
    plugin_metadata: json(collectors.pluginMetadata),
    schedule: json(collectors.schedule),
    tags: json(collectors.tags),
    last_collected_at: col(collectors.lastCollectedAt, "datetime"),
    next_fire_at: col(collectors.nextFireAt, "datetime"),
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
  /** A registry plugin instead of pluginEndpoint ("" for none), with a version or alias. */
  pluginId: string;
  pluginVersion: string;
  pluginOptions: JsonObject;
  schedule: CollectorSchedule | null;
  tags: Record<string, string>;
}

export type CollectorPatch = Partial<Pick<CollectorRow, "name" | "pluginEndpoint" | "pluginId" | "pluginVersion" | "pluginOptions" | "pluginMetadata" | "schedule" | "tags">>;

const inScope = (scope: TenantScope) => scopeCondition(scope, { domainId: collectors.domainId, workspaceId: collectors.workspaceId });
const collectorEvent = (event: string) => eventSubject("inventory", "collector", event);

export class CollectorRepository {
  constructor(
    private readonly db: Database,
    private readonly onCommit: () => void,
  ) {}

  async create(input: NewCollector): Promise<CollectorRow> {
    try {
      const row = await this.db.transaction(async (tx) => {
        const [created] = await tx
          .insert(collectors)
          .values({ ...input, nextFireAt: nextFireTime(input.schedule, new Date()) })
          .returning();
        if (created.nextFireAt) await noticeSchedulesChanged(tx);
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

  async get(scope: TenantScope, collectorId: string): Promise<CollectorRow | undefined> {
    const [row] = await this.db.select().from(collectors).where(and(eq(collectors.collectorId, collectorId), inScope(scope)));
    return row;
  }

  list(scope: TenantScope, query: QueryInput) {
    return listWith(this.db, collectors, collectorFields, query, inScope(scope));
  }

  /** Applies a patch built from the current row, under a row lock. */
  async update(scope: TenantScope, collectorId: string, build: (current: CollectorRow) => CollectorPatch): Promise<CollectorRow | undefined> {
    const row = await this.db.transaction(async (tx) => {
      const [current] = await tx
        .select()
        .from(collectors)
        .where(and(eq(collectors.collectorId, collectorId), inScope(scope)))
        .for("update");
      if (!current) return undefined;
      const patch = build(current);
      const now = new Date();
      // A changed, enabled or disabled schedule starts afresh from now: fires missed while it was off are not caught up.
      const schedule = "schedule" in patch ? { nextFireAt: nextFireTime(patch.schedule ?? null, now) } : {};
      if ("schedule" in patch) await noticeSchedulesChanged(tx);
      const [updated] = await tx
        .update(collectors)
        .set({ ...patch, ...schedule, updatedAt: now })
        .where(and(eq(collectors.domainId, current.domainId), eq(collectors.collectorId, collectorId)))
        .returning();
      await enqueueEvent(tx, outbox, { subject: collectorEvent("updated"), domainId: current.domainId, data: { collector_id: collectorId, workspace_id: current.workspaceId } });
      return updated;
    });
    if (row) this.onCommit();
    return row;
  }

  /** Keeps the sealed credential of the collector's service identity (CollectionCredentials.sealServiceCredential). */
  async storeServiceCredential(domainId: string, collectorId: string, sealed: string): Promise<void> {
    await this.db
      .update(collectors)
      .set({ sealedServiceCredential: sealed })
      .where(and(eq(collectors.domainId, domainId), eq(collectors.collectorId, collectorId)));
  }

  /** Stores what the plugin's Init said about itself. */
  async storeMetadata(domainId: string, collectorId: string, metadata: JsonObject): Promise<void> {
    await this.db
      .update(collectors)
      .set({ pluginMetadata: metadata, updatedAt: new Date() })
      .where(and(eq(collectors.domainId, domainId), eq(collectors.collectorId, collectorId)));
  }

  /** Deletes the collector unless one of its jobs is running; false when it is not in scope. */
  async delete(scope: TenantScope, collectorId: string): Promise<boolean> {
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
