import type { JsonObject } from "@bufbuild/protobuf";
import { Code, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { ErrorCode, invalidParameter, missingParameter, notFound, PlatformError, serviceUnavailable, timeout } from "@cloudforet/errors";
import { CollectorService } from "@cloudforet/proto/cloudforet/inventory/v1/collector_pb";
import { ClientError, ErrorCategory } from "@cloudforet/resilience";
import { callerOf, requireWorkspaceAccess } from "@cloudforet/runtime";
import { randomUUID } from "node:crypto";
import type { PluginClient, PluginClients } from "../collection/plugin-clients";
import { hasPlugin, type PluginRouter } from "../plugins/plugin-router";
import { validateVersionRef } from "../plugins/plugins";
import { storedText } from "../jobs/stored-text";
import { checkPluginMetadata } from "./plugin-metadata";
import type { CollectorRow, CollectorSchedule } from "../db/schema";
import type { IdentityDirectory } from "../identity-directory";
import type { JobLauncher } from "../jobs/job-launcher";
import { jobMessage } from "../jobs/to-message";
import type { CollectorPatch, CollectorRepository } from "./repository";
import { validateEndpoint, validateId, validateName, validateOptions, validateProvider } from "./collectors";
import { validateSchedule } from "./schedule-rules";
import { collectorListMessage, collectorMessage } from "./to-message";
import type { ScheduleRepository } from "../schedules/repository";
import { scheduleFireListMessage } from "../schedules/to-message";
import { mergeTags, tenantScope, validateTags } from "@cloudforet/query";

export interface CollectorDeps {
  collectors: CollectorRepository;
  identity: IdentityDirectory;
  plugins: PluginClients;
  launcher: JobLauncher;
  schedules: ScheduleRepository;
  pluginRouter: PluginRouter;
}

const authorizationOf = (ctx: HandlerContext) => ctx.requestHeader.get("authorization");

function requireCollectorId(id: string): string {
  if (!id) throw missingParameter("collector_id");
  return validateId("collector_id", id);
}

export function collectorHandlers(deps: CollectorDeps): ServiceImpl<typeof CollectorService> {
  const { collectors, identity, plugins, launcher, schedules, pluginRouter } = deps;

  /**
   * The plugin a collector calls: a raw endpoint, or a registry plugin (plugin_id with a version or
   * alias, resolved at every call), never both; the registry reference must resolve now.
   */
  async function pluginReference(domainId: string, info: { endpoint: string; pluginId: string; pluginVersion: string }) {
    const pluginEndpoint = validateEndpoint(info.endpoint, plugins.policy);
    if (!info.pluginId) {
      if (info.pluginVersion) throw missingParameter("plugin_info.plugin_id");
      return { pluginEndpoint, pluginId: "", pluginVersion: "" };
    }
    if (pluginEndpoint) throw invalidParameter("Set plugin_info.endpoint or plugin_info.plugin_id, not both", { parameter: "plugin_info.plugin_id", value: info.pluginId });
    const pluginId = validateId("plugin_info.plugin_id", info.pluginId);
    const pluginVersion = validateVersionRef(info.pluginVersion, "plugin_info.plugin_version");
    try {
      await pluginRouter.resolve(domainId, pluginId, pluginVersion);
    } catch (err) {
      if (err instanceof PlatformError && err.code === ErrorCode.NOT_FOUND) throw invalidParameter("Unknown plugin", { parameter: "plugin_info.plugin_id", value: pluginId });
      if (err instanceof PlatformError && err.code === ErrorCode.INVALID_PARAMETER) throw invalidParameter(err.message, { parameter: "plugin_info.plugin_version", value: pluginVersion });
      throw err;
    }
    return { pluginEndpoint: "", pluginId, pluginVersion };
  }

  /**
   * A schedule turned on needs the workspace's service identity, granted as the caller (a workspace
   * owner); when that fails the schedule is kept and its fires say why (EnableSchedule then reports it).
   */
  async function ensureServiceIdentity(row: CollectorRow, ctx: HandlerContext): Promise<void> {
    if (row.schedule?.enabled && hasPlugin(row) && !row.sealedServiceCredential) await launcher.serviceCredentialOf(row, authorizationOf(ctx));
  }

  /** Turns a collector's schedule on or off (it is kept either way). */
  async function setScheduleEnabled(ctx: HandlerContext, collectorId: string, enabled: boolean) {
    const id = requireCollectorId(collectorId);
    const caller = callerOf(ctx);
    const current = await collectors.get(tenantScope(caller), id);
    if (!current) throw notFound("Collector not found", { collector_id: id });
    requireWorkspaceAccess(caller, current.workspaceId, "write");
    if (!current.schedule) throw invalidParameter("The collector has no schedule: set one with Update", { parameter: "collector_id", value: id });
    if (enabled) {
      if (!hasPlugin(current)) throw invalidParameter("The collector is push-only: a schedule needs a plugin to collect from", { parameter: "collector_id", value: id });
      // Refused here (not later at a fire) when the caller cannot grant the service identity; a revoked one is replaced.
      await launcher.usableServiceCredential(current, authorizationOf(ctx));
    }
    const row = await collectors.update(tenantScope(caller), id, (latest) => ({ schedule: latest.schedule ? { ...latest.schedule, enabled } : null }));
    if (!row) throw notFound("Collector not found", { collector_id: id });
    return { collector: collectorMessage(row) };
  }

  async function workspaceFor(ctx: HandlerContext, requested: string): Promise<string> {
    const caller = callerOf(ctx);
    let workspaceId = requested;
    if (!workspaceId) {
      if (caller.workspaceIds.length !== 1) {
        throw invalidParameter("workspace_id is required: the caller has no single workspace", { parameter: "workspace_id" });
      }
      workspaceId = caller.workspaceIds[0];
    }
    validateId("workspace_id", workspaceId);
    requireWorkspaceAccess(caller, workspaceId, "write");
    if (caller.domainAdmin && !(await identity.workspaceExists(workspaceId, authorizationOf(ctx)))) {
      throw invalidParameter("Unknown workspace", { parameter: "workspace_id", value: workspaceId });
    }
    return workspaceId;
  }

  return {
    async create(req, ctx) {
      const scope = tenantScope(callerOf(ctx));
      const collectorId = req.collectorId ? validateId("collector_id", req.collectorId) : `collector-${randomUUID().slice(0, 8)}`;
      const name = validateName(req.name);
      const provider = validateProvider(req.provider);
      const plugin = await pluginReference(scope.domainId, { endpoint: req.pluginInfo?.endpoint ?? "", pluginId: req.pluginInfo?.pluginId ?? "", pluginVersion: req.pluginInfo?.pluginVersion ?? "" });
      const pluginOptions = validateOptions(req.pluginInfo?.options ?? {}, "plugin_info.options");
      const schedule: CollectorSchedule | null = req.schedule ? validateSchedule(req.schedule) : null;
      const tags = validateTags(req.tags);
      const workspaceId = await workspaceFor(ctx, req.workspaceId);
      const row = await collectors.create({ domainId: scope.domainId, collectorId, workspaceId, name, provider, ...plugin, pluginOptions, schedule, tags });
      await ensureServiceIdentity(row, ctx);
      return collectorMessage(row);
    },

    async get(req, ctx) {
      const id = requireCollectorId(req.collectorId);
      const row = await collectors.get(tenantScope(callerOf(ctx)), id);
      if (!row) throw notFound("Collector not found", { collector_id: id });
      return collectorMessage(row);
    },

    async list(req, ctx) {
      const { results, total_count } = await collectors.list(tenantScope(callerOf(ctx)), req.query ?? {});
      return { results: results.map(collectorListMessage), totalCount: total_count };
    },

    async update(req, ctx) {
      const id = requireCollectorId(req.collectorId);
      const patch: CollectorPatch = {};
      if (req.name !== undefined) patch.name = validateName(req.name);
      if (req.pluginInfo) {
        Object.assign(patch, await pluginReference(callerOf(ctx).domainId, req.pluginInfo));
        patch.pluginOptions = validateOptions(req.pluginInfo.options ?? {}, "plugin_info.options");
        patch.pluginMetadata = {};
      }
      if (req.clearSchedule) patch.schedule = null;
      else if (req.schedule) patch.schedule = validateSchedule(req.schedule);
      const caller = callerOf(ctx);
      const row = await collectors.update(tenantScope(caller), id, (current) => {
        requireWorkspaceAccess(caller, current.workspaceId, "write");
        const tagsChanged = Object.keys(req.tags).length > 0 || req.removeTags.length > 0;
        return tagsChanged ? { ...patch, tags: mergeTags(current.tags, req.tags, req.removeTags) } : patch;
      });
      if (!row) throw notFound("Collector not found", { collector_id: id });
      if (patch.schedule) await ensureServiceIdentity(row, ctx);
      return collectorMessage(row);
    },

    async delete(req, ctx) {
      const id = requireCollectorId(req.collectorId);
      const caller = callerOf(ctx);
      const current = await collectors.get(tenantScope(caller), id);
      if (!current) throw notFound("Collector not found", { collector_id: id });
      requireWorkspaceAccess(caller, current.workspaceId, "write");
      if (!(await collectors.delete(tenantScope(caller), id))) throw notFound("Collector not found", { collector_id: id });
      return {};
    },

    async verify(req, ctx) {
      const caller = callerOf(ctx);
      const id = requireCollectorId(req.collectorId);
      const collector = await collectors.get(tenantScope(caller), id);
      if (!collector) throw notFound("Collector not found", { collector_id: id });
      requireWorkspaceAccess(caller, collector.workspaceId, "write");
      if (!hasPlugin(collector)) throw invalidParameter("The collector is push-only: it has no plugin to verify", { parameter: "collector_id", value: id });
      // A registry plugin: the endpoint its version (or alias) routes to now, failing over as its calls do.
      const targets = await pluginRouter.targetsOf(collector);
      const plugin = {
        init: (request: Parameters<PluginClient["init"]>[0], options: { timeoutMs: number }) => pluginRouter.call(targets, (url) => plugins.for(url).init(request, options)),
        verify: (request: Parameters<PluginClient["verify"]>[0], options: { timeoutMs: number }) => pluginRouter.call(targets, (url) => plugins.for(url).verify(request, options)),
      };
      const answer = { collectorId: id, serviceAccountId: req.serviceAccountId, success: true, message: "", metadata: {} as JsonObject };
      try {
        const init = await plugin.init({ options: collector.pluginOptions }, { timeoutMs: 30_000 });
        answer.metadata = checkPluginMetadata(init.metadata ?? {}, plugins.maxMetadataBytes);
        await collectors.storeMetadata(collector.domainId, id, answer.metadata);
        if (req.serviceAccountId) {
          validateId("service_account_id", req.serviceAccountId);
          const account = await identity.serviceAccount(req.serviceAccountId, authorizationOf(ctx));
          if (!account || account.workspaceId !== collector.workspaceId) throw notFound("Service account not found", { service_account_id: req.serviceAccountId });
          const secretData = account.secretId ? await identity.secretData(account.secretId, authorizationOf(ctx)) : {};
          await plugin.verify({ options: collector.pluginOptions, secretData }, { timeoutMs: 30_000 });
        }
      } catch (err) {
        if (!(err instanceof ClientError)) throw err;
        if (err.category === ErrorCategory.AUTH || err.category === ErrorCategory.VALIDATION || err.category === ErrorCategory.PERMISSION) {
          return { ...answer, success: false, message: storedText(`${err.errorCode}: ${err.message}`) };
        }
        if (err.grpcCode === Code.DeadlineExceeded) throw timeout("The plugin did not answer in time", { collector_id: id });
        throw serviceUnavailable(`The plugin cannot be reached: ${err.message}`, { collector_id: id });
      }
      return answer;
    },

    async enableSchedule(req, ctx) {
      return setScheduleEnabled(ctx, req.collectorId, true);
    },

    async disableSchedule(req, ctx) {
      return setScheduleEnabled(ctx, req.collectorId, false);
    },

    async listScheduleFires(req, ctx) {
      const { results, total_count } = await schedules.listFires(tenantScope(callerOf(ctx)), req.query ?? {});
      return { results: results.map(scheduleFireListMessage), totalCount: total_count };
    },

    async collect(req, ctx) {
      const job = await launcher.launch(
        { caller: callerOf(ctx), authorization: authorizationOf(ctx) },
        { collectorId: req.collectorId, name: req.name, serviceAccountIds: req.serviceAccountIds, options: req.options ?? {}, via: "collect" },
      );
      return jobMessage(job);
    },
  };
}
