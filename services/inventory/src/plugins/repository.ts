import { and, asc, eq, inArray, isNull, lt, or, sql } from "drizzle-orm";
import type { Database } from "@cloudforet/db";
import { isUniqueViolation } from "@cloudforet/db";
import { conflict, illegalTransition, notFound } from "@cloudforet/errors";
import { col, defineQueryFields, json, listWith, type QueryInput } from "@cloudforet/query";
import {
  collectors,
  enrollments,
  pluginAliases,
  pluginEndpoints,
  plugins,
  pluginVersions,
  type EndpointHealth,
  type PluginAliasRow,
  type PluginEndpointRow,
  type PluginRow,
  type PluginVersionRow,
} from "../db/schema";
import { compareVersionsDescending, type EndpointInput, type PluginKind, type RoutingMode } from "./plugins";

export const pluginFields = defineQueryFields(
  {
    plugin_id: col(plugins.pluginId),
    name: col(plugins.name),
    kind: col(plugins.kind),
    routing_mode: col(plugins.routingMode),
    tags: json(plugins.tags),
    domain_id: col(plugins.domainId),
    created_at: col(plugins.createdAt, "datetime"),
    updated_at: col(plugins.updatedAt, "datetime"),
  },
  { keywordFields: ["name", "plugin_id"], defaultSort: [{ key: "created_at" }, { key: "plugin_id" }] },
);

export const aliasFields = defineQueryFields(
  {
    plugin_id: col(pluginAliases.pluginId),
    name: col(pluginAliases.name),
    version: col(pluginAliases.version),
    domain_id: col(pluginAliases.domainId),
    created_at: col(pluginAliases.createdAt, "datetime"),
    updated_at: col(pluginAliases.updatedAt, "datetime"),
  },
  { keywordFields: ["name", "plugin_id", "version"], defaultSort: [{ key: "plugin_id" }, { key: "name" }] },
);

export interface VersionWithEndpoints extends PluginVersionRow {
  endpoints: PluginEndpointRow[];
}

export interface PluginDetail extends PluginRow {
  versions: VersionWithEndpoints[];
  aliases: PluginAliasRow[];
}

export type PluginPatch = Partial<Pick<PluginRow, "name" | "routingMode" | "tags">>;

const pluginKey = (domainId: string, pluginId: string) => and(eq(plugins.domainId, domainId), eq(plugins.pluginId, pluginId));

/** All SQL of the plugin registry: plugins, versions, endpoints (with their health) and aliases. */
export class PluginRepository {
  constructor(private readonly db: Database) {}

  async register(input: { domainId: string; pluginId: string; name: string; kind: PluginKind; routingMode: RoutingMode; tags: Record<string, string> }): Promise<PluginRow> {
    try {
      const [row] = await this.db.insert(plugins).values(input).returning();
      return row;
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict("Plugin already exists", { plugin_id: input.pluginId });
      throw err;
    }
  }

  async get(domainId: string, pluginId: string): Promise<PluginRow | undefined> {
    const [row] = await this.db.select().from(plugins).where(pluginKey(domainId, pluginId));
    return row;
  }

  async detail(domainId: string, pluginId: string): Promise<PluginDetail | undefined> {
    const plugin = await this.get(domainId, pluginId);
    if (!plugin) return undefined;
    const versions = await this.db.select().from(pluginVersions).where(and(eq(pluginVersions.domainId, domainId), eq(pluginVersions.pluginId, pluginId)));
    const endpoints = await this.db
      .select()
      .from(pluginEndpoints)
      .where(and(eq(pluginEndpoints.domainId, domainId), eq(pluginEndpoints.pluginId, pluginId)))
      .orderBy(asc(pluginEndpoints.position));
    const aliases = await this.db.select().from(pluginAliases).where(and(eq(pluginAliases.domainId, domainId), eq(pluginAliases.pluginId, pluginId))).orderBy(asc(pluginAliases.name));
    return {
      ...plugin,
      versions: versions
        .sort((a, b) => compareVersionsDescending(a.version, b.version))
        .map((v) => ({ ...v, endpoints: endpoints.filter((e) => e.version === v.version) })),
      aliases,
    };
  }

  list(domainId: string, query: QueryInput) {
    return listWith(this.db, plugins, pluginFields, query, eq(plugins.domainId, domainId));
  }

  async update(domainId: string, pluginId: string, build: (current: PluginRow) => PluginPatch): Promise<PluginRow | undefined> {
    return this.db.transaction(async (tx) => {
      const [current] = await tx.select().from(plugins).where(pluginKey(domainId, pluginId)).for("update");
      if (!current) return undefined;
      const [updated] = await tx.update(plugins).set({ ...build(current), updatedAt: new Date() }).where(pluginKey(domainId, pluginId)).returning();
      return updated;
    });
  }

  /** Deletes the plugin with its versions and aliases unless a collector or a live enrollment uses it. */
  async delete(domainId: string, pluginId: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const [current] = await tx.select().from(plugins).where(pluginKey(domainId, pluginId)).for("update");
      if (!current) return false;
      const [collector] = await tx
        .select({ collectorId: collectors.collectorId })
        .from(collectors)
        .where(and(eq(collectors.domainId, domainId), eq(collectors.pluginId, pluginId)))
        .limit(1);
      if (collector) throw illegalTransition("A collector references this plugin", { plugin_id: pluginId, collector_id: collector.collectorId });
      const [enrollment] = await tx
        .select({ enrollmentId: enrollments.enrollmentId })
        .from(enrollments)
        .where(and(eq(enrollments.domainId, domainId), eq(enrollments.pluginId, pluginId), inArray(enrollments.status, ["PENDING", "ACTIVE"])))
        .limit(1);
      if (enrollment) throw illegalTransition("An enrollment of this plugin is PENDING or ACTIVE", { plugin_id: pluginId, enrollment_id: enrollment.enrollmentId });
      await tx.delete(pluginAliases).where(and(eq(pluginAliases.domainId, domainId), eq(pluginAliases.pluginId, pluginId)));
      await tx.delete(pluginEndpoints).where(and(eq(pluginEndpoints.domainId, domainId), eq(pluginEndpoints.pluginId, pluginId)));
      await tx.delete(pluginVersions).where(and(eq(pluginVersions.domainId, domainId), eq(pluginVersions.pluginId, pluginId)));
      await tx.delete(plugins).where(pluginKey(domainId, pluginId));
      return true;
    });
  }

  async addVersion(domainId: string, pluginId: string, version: string, endpoints: EndpointInput[]): Promise<VersionWithEndpoints> {
    try {
      return await this.db.transaction(async (tx) => {
        const [row] = await tx.insert(pluginVersions).values({ domainId, pluginId, version }).returning();
        const rows = await tx
          .insert(pluginEndpoints)
          .values(endpoints.map((e, position) => ({ domainId, pluginId, version, position, url: e.url, weight: e.weight })))
          .returning();
        await tx.update(plugins).set({ updatedAt: new Date() }).where(pluginKey(domainId, pluginId));
        return { ...row, endpoints: rows.sort((a, b) => a.position - b.position) };
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict("The plugin already has this version", { plugin_id: pluginId, version });
      throw err;
    }
  }

  async removeVersion(domainId: string, pluginId: string, version: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const [current] = await tx
        .select()
        .from(pluginVersions)
        .where(and(eq(pluginVersions.domainId, domainId), eq(pluginVersions.pluginId, pluginId), eq(pluginVersions.version, version)))
        .for("update");
      if (!current) return false;
      const [alias] = await tx
        .select({ name: pluginAliases.name })
        .from(pluginAliases)
        .where(and(eq(pluginAliases.domainId, domainId), eq(pluginAliases.pluginId, pluginId), eq(pluginAliases.version, version)))
        .limit(1);
      if (alias) throw illegalTransition("An alias names this version: switch it first", { plugin_id: pluginId, version, alias: alias.name });
      const [collector] = await tx
        .select({ collectorId: collectors.collectorId })
        .from(collectors)
        .where(and(eq(collectors.domainId, domainId), eq(collectors.pluginId, pluginId), eq(collectors.pluginVersion, version)))
        .limit(1);
      if (collector) throw illegalTransition("A collector references this version", { plugin_id: pluginId, version, collector_id: collector.collectorId });
      await tx.delete(pluginEndpoints).where(and(eq(pluginEndpoints.domainId, domainId), eq(pluginEndpoints.pluginId, pluginId), eq(pluginEndpoints.version, version)));
      await tx.delete(pluginVersions).where(and(eq(pluginVersions.domainId, domainId), eq(pluginVersions.pluginId, pluginId), eq(pluginVersions.version, version)));
      return true;
    });
  }

  async versionExists(domainId: string, pluginId: string, version: string): Promise<boolean> {
    const [row] = await this.db
      .select({ version: pluginVersions.version })
      .from(pluginVersions)
      .where(and(eq(pluginVersions.domainId, domainId), eq(pluginVersions.pluginId, pluginId), eq(pluginVersions.version, version)));
    return row !== undefined;
  }

  async alias(domainId: string, pluginId: string, name: string): Promise<PluginAliasRow | undefined> {
    const [row] = await this.db.select().from(pluginAliases).where(and(eq(pluginAliases.domainId, domainId), eq(pluginAliases.pluginId, pluginId), eq(pluginAliases.name, name)));
    return row;
  }

  async createAlias(domainId: string, pluginId: string, name: string, version: string): Promise<PluginAliasRow> {
    try {
      const [row] = await this.db.insert(pluginAliases).values({ domainId, pluginId, name, version }).returning();
      return row;
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict("The plugin already has this alias", { plugin_id: pluginId, name });
      throw err;
    }
  }

  /** Points the alias at `version`; returns the alias and the version it named before. */
  async switchAlias(domainId: string, pluginId: string, name: string, version: string): Promise<{ alias: PluginAliasRow; previous: string }> {
    return this.db.transaction(async (tx) => {
      const key = and(eq(pluginAliases.domainId, domainId), eq(pluginAliases.pluginId, pluginId), eq(pluginAliases.name, name));
      const [current] = await tx.select().from(pluginAliases).where(key).for("update");
      if (!current) throw notFound("Alias not found", { plugin_id: pluginId, name });
      const [alias] = await tx.update(pluginAliases).set({ version, updatedAt: new Date() }).where(key).returning();
      return { alias, previous: current.version };
    });
  }

  listAliases(domainId: string, pluginId: string, query: QueryInput) {
    const scope = pluginId ? and(eq(pluginAliases.domainId, domainId), eq(pluginAliases.pluginId, pluginId))! : eq(pluginAliases.domainId, domainId);
    return listWith(this.db, pluginAliases, aliasFields, query, scope);
  }

  async deleteAlias(domainId: string, pluginId: string, name: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const key = and(eq(pluginAliases.domainId, domainId), eq(pluginAliases.pluginId, pluginId), eq(pluginAliases.name, name));
      const [current] = await tx.select().from(pluginAliases).where(key).for("update");
      if (!current) return false;
      const [collector] = await tx
        .select({ collectorId: collectors.collectorId })
        .from(collectors)
        .where(and(eq(collectors.domainId, domainId), eq(collectors.pluginId, pluginId), eq(collectors.pluginVersion, name)))
        .limit(1);
      if (collector) throw illegalTransition("A collector references this alias", { plugin_id: pluginId, name, collector_id: collector.collectorId });
      await tx.delete(pluginAliases).where(key);
      return true;
    });
  }

  async endpointsOf(domainId: string, pluginId: string, version: string): Promise<PluginEndpointRow[]> {
    return this.db
      .select()
      .from(pluginEndpoints)
      .where(and(eq(pluginEndpoints.domainId, domainId), eq(pluginEndpoints.pluginId, pluginId), eq(pluginEndpoints.version, version)))
      .orderBy(asc(pluginEndpoints.position));
  }

  /** Every version of a plugin (newest first). */
  async versionsOf(domainId: string, pluginId: string): Promise<string[]> {
    const rows = await this.db.select({ version: pluginVersions.version }).from(pluginVersions).where(and(eq(pluginVersions.domainId, domainId), eq(pluginVersions.pluginId, pluginId)));
    return rows.map((r) => r.version).sort(compareVersionsDescending);
  }

  /** Endpoints whose last check is older than `before` (or never made), oldest first. */
  async dueForCheck(before: Date, limit: number): Promise<PluginEndpointRow[]> {
    return this.db
      .select()
      .from(pluginEndpoints)
      .where(or(isNull(pluginEndpoints.checkedAt), lt(pluginEndpoints.checkedAt, before)))
      .orderBy(sql`${pluginEndpoints.checkedAt} asc nulls first`)
      .limit(limit);
  }

  /** Records a check (or a call's UNAVAILABLE) of every endpoint with this URL in the plugin's domain. */
  async recordHealth(endpoint: Pick<PluginEndpointRow, "domainId" | "pluginId" | "url">, health: EndpointHealth, lastError: string): Promise<void> {
    await this.db
      .update(pluginEndpoints)
      .set({ health, lastError, checkedAt: new Date() })
      .where(and(eq(pluginEndpoints.domainId, endpoint.domainId), eq(pluginEndpoints.pluginId, endpoint.pluginId), eq(pluginEndpoints.url, endpoint.url)));
  }
}
