import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { invalidParameter, missingParameter, notFound } from "@cloudforet/errors";
import type { OutboundPolicy } from "@cloudforet/outbound";
import { Plugin_Kind, Plugin_RoutingMode, PluginAliasService, PluginService } from "@cloudforet/proto/cloudforet/inventory/v1/plugin_pb";
import { mergeTags, validateTags } from "@cloudforet/query";
import { callerOf, requireDomainAccess } from "@cloudforet/runtime";
import { randomUUID } from "node:crypto";
import { validateId, validateName } from "../collectors/collectors";
import type { PluginRouter } from "./plugin-router";
import { validateAliasName, validateEndpoints, validateVersion, validateVersionRef } from "./plugins";
import type { PluginPatch, PluginRepository } from "./repository";
import { aliasListMessage, aliasMessage, pluginListMessage, pluginMessage, resolutionMessage, versionMessage } from "./to-message";

export interface PluginDeps {
  registry: PluginRepository;
  router: PluginRouter;
  /** CLOUDFORET_OUTBOUND_*: what endpoint URLs are validated against. */
  policy: OutboundPolicy;
  /** New endpoints on this replica: health-check them now rather than at the next round. */
  checkHealthNow?: () => void;
}

function requirePluginId(id: string): string {
  if (!id) throw missingParameter("plugin_id");
  return validateId("plugin_id", id);
}

function kindOf(kind: Plugin_Kind) {
  const name = Plugin_Kind[kind] as "COLLECTOR" | "NOTIFICATION_PROTOCOL" | undefined;
  if (!name) throw invalidParameter("kind must be COLLECTOR or NOTIFICATION_PROTOCOL", { parameter: "kind", value: String(kind) });
  return name;
}

function routingModeOf(mode: Plugin_RoutingMode) {
  const name = Plugin_RoutingMode[mode] as "WEIGHTED" | "FAILOVER" | undefined;
  if (!name) throw invalidParameter("routing_mode must be WEIGHTED or FAILOVER", { parameter: "routing_mode", value: String(mode) });
  return name;
}

/** The caller's plugin, looked up before write access is checked (another domain learns only NOT_FOUND). */
async function writablePluginOf(registry: PluginRepository, ctx: HandlerContext, pluginId: string) {
  const caller = callerOf(ctx);
  const id = requirePluginId(pluginId);
  const plugin = await registry.get(caller.domainId, id);
  if (!plugin) throw notFound("Plugin not found", { plugin_id: id });
  requireDomainAccess(caller, "write");
  return plugin;
}

/**
 * The domain's plugin registry: domain admins write, every member of the domain reads (collectors
 * of any workspace reference its plugins). The plugin is looked up before other fields are checked,
 * so another domain's caller learns nothing but NOT_FOUND.
 */
export function pluginHandlers(deps: PluginDeps): ServiceImpl<typeof PluginService> {
  const { registry, router, policy } = deps;
  const writablePlugin = (ctx: HandlerContext, pluginId: string) => writablePluginOf(registry, ctx, pluginId);

  return {
    async register(req, ctx) {
      const caller = callerOf(ctx);
      requireDomainAccess(caller, "write");
      const pluginId = req.pluginId ? validateId("plugin_id", req.pluginId) : `plugin-${randomUUID().slice(0, 8)}`;
      const row = await registry.register({
        domainId: caller.domainId,
        pluginId,
        name: validateName(req.name),
        kind: kindOf(req.kind),
        routingMode: routingModeOf(req.routingMode),
        tags: validateTags(req.tags),
      });
      return { plugin: pluginMessage({ ...row, versions: [], aliases: [] }) };
    },

    async get(req, ctx) {
      const id = requirePluginId(req.pluginId);
      const detail = await registry.detail(callerOf(ctx).domainId, id);
      if (!detail) throw notFound("Plugin not found", { plugin_id: id });
      return { plugin: pluginMessage(detail) };
    },

    async list(req, ctx) {
      const { results, total_count } = await registry.list(callerOf(ctx).domainId, req.query ?? {});
      return { results: results.map(pluginListMessage), totalCount: total_count };
    },

    async update(req, ctx) {
      const plugin = await writablePlugin(ctx, req.pluginId);
      const patch: PluginPatch = {};
      if (req.name !== undefined) patch.name = validateName(req.name);
      if (req.routingMode !== undefined) patch.routingMode = routingModeOf(req.routingMode);
      const tagsChanged = Object.keys(req.tags).length > 0 || req.removeTags.length > 0;
      const row = await registry.update(plugin.domainId, plugin.pluginId, (current) => (tagsChanged ? { ...patch, tags: mergeTags(current.tags, req.tags, req.removeTags) } : patch));
      if (!row) throw notFound("Plugin not found", { plugin_id: plugin.pluginId });
      return { plugin: pluginMessage((await registry.detail(row.domainId, row.pluginId)) ?? row) };
    },

    async delete(req, ctx) {
      const plugin = await writablePlugin(ctx, req.pluginId);
      if (!(await registry.delete(plugin.domainId, plugin.pluginId))) throw notFound("Plugin not found", { plugin_id: plugin.pluginId });
      return {};
    },

    async addVersion(req, ctx) {
      const plugin = await writablePlugin(ctx, req.pluginId);
      const version = validateVersion(req.version);
      const endpoints = validateEndpoints(
        req.endpoints.map((e) => ({ url: e.url, weight: e.weight })),
        policy,
      );
      const row = await registry.addVersion(plugin.domainId, plugin.pluginId, version, endpoints);
      deps.checkHealthNow?.();
      return { version: versionMessage(row) };
    },

    async removeVersion(req, ctx) {
      const plugin = await writablePlugin(ctx, req.pluginId);
      const version = validateVersion(req.version);
      if (!(await registry.removeVersion(plugin.domainId, plugin.pluginId, version))) throw notFound("Version not found", { plugin_id: plugin.pluginId, version });
      return {};
    },

    async resolve(req, ctx) {
      const id = requirePluginId(req.pluginId);
      const resolution = await router.resolve(callerOf(ctx).domainId, id, validateVersionRef(req.version, "version"));
      return resolutionMessage(resolution);
    },
  };
}

export function pluginAliasHandlers(deps: PluginDeps): ServiceImpl<typeof PluginAliasService> {
  const { registry } = deps;
  const writablePlugin = (ctx: HandlerContext, pluginId: string) => writablePluginOf(registry, ctx, pluginId);

  async function knownVersion(domainId: string, pluginId: string, version: string) {
    validateVersion(version);
    if (!(await registry.versionExists(domainId, pluginId, version))) throw invalidParameter("Unknown version of the plugin", { parameter: "version", value: version, plugin_id: pluginId });
    return version;
  }

  return {
    async create(req, ctx) {
      const plugin = await writablePlugin(ctx, req.pluginId);
      const name = validateAliasName(req.name);
      const version = await knownVersion(plugin.domainId, plugin.pluginId, req.version);
      return { alias: aliasMessage(await registry.createAlias(plugin.domainId, plugin.pluginId, name, version)) };
    },

    async switch(req, ctx) {
      const plugin = await writablePlugin(ctx, req.pluginId);
      const name = validateAliasName(req.name);
      if (!(await registry.alias(plugin.domainId, plugin.pluginId, name))) throw notFound("Alias not found", { plugin_id: plugin.pluginId, name });
      const version = await knownVersion(plugin.domainId, plugin.pluginId, req.version);
      const { alias, previous } = await registry.switchAlias(plugin.domainId, plugin.pluginId, name, version);
      return { alias: aliasMessage(alias), previousVersion: previous };
    },

    async list(req, ctx) {
      const domainId = callerOf(ctx).domainId;
      const pluginId = req.pluginId ? validateId("plugin_id", req.pluginId) : "";
      if (pluginId && !(await registry.get(domainId, pluginId))) throw notFound("Plugin not found", { plugin_id: pluginId });
      const { results, total_count } = await registry.listAliases(domainId, pluginId, req.query ?? {});
      return { results: results.map(aliasListMessage), totalCount: total_count };
    },

    async delete(req, ctx) {
      const plugin = await writablePlugin(ctx, req.pluginId);
      const name = validateAliasName(req.name);
      if (!(await registry.deleteAlias(plugin.domainId, plugin.pluginId, name))) throw notFound("Alias not found", { plugin_id: plugin.pluginId, name });
      return {};
    },
  };
}
