import type { JsonObject } from "@bufbuild/protobuf";
import { Code, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { invalidParameter, missingParameter, notFound, serviceUnavailable, timeout } from "@cloudforet/errors";
import { CollectorService } from "@cloudforet/proto/cloudforet/inventory/v1/collector_pb";
import { ClientError, ErrorCategory } from "@cloudforet/resilience";
import { callerOf } from "@cloudforet/runtime";
import { randomUUID } from "node:crypto";
import { assertCanWrite, scopeOf } from "../access/scope";
import type { PluginClients } from "../collection/plugin-clients";
import type { CollectorSchedule } from "../db/schema";
import type { IdentityDirectory } from "../identity/identity-directory";
import type { JobLauncher } from "../jobs/job-launcher";
import { jobMessage } from "../jobs/to-message";
import type { CollectorPatch, CollectorRepository } from "./repository";
import { mergeTags, validateEndpoint, validateId, validateName, validateOptions, validateProvider, validateTags } from "./rules";
import { validateSchedule } from "./schedule-rules";
import { collectorListMessage, collectorMessage } from "./to-message";

export interface CollectorDeps {
  collectors: CollectorRepository;
  identity: IdentityDirectory;
  plugins: PluginClients;
  launcher: JobLauncher;
}

const authorizationOf = (ctx: HandlerContext) => ctx.requestHeader.get("authorization");

function requireCollectorId(id: string): string {
  if (!id) throw missingParameter("collector_id");
  return validateId("collector_id", id);
}

export function collectorHandlers(deps: CollectorDeps): ServiceImpl<typeof CollectorService> {
  const { collectors, identity, plugins, launcher } = deps;

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
    assertCanWrite(caller, workspaceId);
    if (caller.domainAdmin && !(await identity.workspaceExists(workspaceId, authorizationOf(ctx)))) {
      throw invalidParameter("Unknown workspace", { parameter: "workspace_id", value: workspaceId });
    }
    return workspaceId;
  }

  return {
    async create(req, ctx) {
      const scope = scopeOf(callerOf(ctx));
      const collectorId = req.collectorId ? validateId("collector_id", req.collectorId) : `collector-${randomUUID().slice(0, 8)}`;
      const name = validateName(req.name);
      const provider = validateProvider(req.provider);
      const pluginEndpoint = validateEndpoint(req.pluginInfo?.endpoint ?? "");
      const pluginOptions = validateOptions(req.pluginInfo?.options ?? {}, "plugin_info.options");
      const schedule: CollectorSchedule | null = req.schedule ? validateSchedule(req.schedule) : null;
      const tags = validateTags(req.tags);
      const workspaceId = await workspaceFor(ctx, req.workspaceId);
      const row = await collectors.create({ domainId: scope.domainId, collectorId, workspaceId, name, provider, pluginEndpoint, pluginOptions, schedule, tags });
      return collectorMessage(row);
    },

    async get(req, ctx) {
      const id = requireCollectorId(req.collectorId);
      const row = await collectors.get(scopeOf(callerOf(ctx)), id);
      if (!row) throw notFound("Collector not found", { collector_id: id });
      return collectorMessage(row);
    },

    async list(req, ctx) {
      const { results, total_count } = await collectors.list(scopeOf(callerOf(ctx)), req.query ?? {});
      return { results: results.map(collectorListMessage), totalCount: total_count };
    },

    async update(req, ctx) {
      const id = requireCollectorId(req.collectorId);
      const patch: CollectorPatch = {};
      if (req.name !== undefined) patch.name = validateName(req.name);
      if (req.pluginInfo) {
        patch.pluginEndpoint = validateEndpoint(req.pluginInfo.endpoint);
        patch.pluginOptions = validateOptions(req.pluginInfo.options ?? {}, "plugin_info.options");
        patch.pluginMetadata = {};
      }
      if (req.clearSchedule) patch.schedule = null;
      else if (req.schedule) patch.schedule = validateSchedule(req.schedule);
      const caller = callerOf(ctx);
      const row = await collectors.update(scopeOf(caller), id, (current) => {
        assertCanWrite(caller, current.workspaceId);
        const tagsChanged = Object.keys(req.tags).length > 0 || req.removeTags.length > 0;
        return tagsChanged ? { ...patch, tags: mergeTags(current.tags, req.tags, req.removeTags) } : patch;
      });
      if (!row) throw notFound("Collector not found", { collector_id: id });
      return collectorMessage(row);
    },

    async delete(req, ctx) {
      const id = requireCollectorId(req.collectorId);
      const caller = callerOf(ctx);
      const current = await collectors.get(scopeOf(caller), id);
      if (!current) throw notFound("Collector not found", { collector_id: id });
      assertCanWrite(caller, current.workspaceId);
      if (!(await collectors.delete(scopeOf(caller), id))) throw notFound("Collector not found", { collector_id: id });
      return {};
    },

    async verify(req, ctx) {
      const caller = callerOf(ctx);
      const id = requireCollectorId(req.collectorId);
      const collector = await collectors.get(scopeOf(caller), id);
      if (!collector) throw notFound("Collector not found", { collector_id: id });
      assertCanWrite(caller, collector.workspaceId);
      if (!collector.pluginEndpoint) throw invalidParameter("The collector is push-only: it has no plugin to verify", { parameter: "collector_id", value: id });
      const plugin = plugins.for(collector.pluginEndpoint);
      const answer = { collectorId: id, serviceAccountId: req.serviceAccountId, success: true, message: "", metadata: {} as JsonObject };
      try {
        const init = await plugin.init({ options: collector.pluginOptions }, { timeoutMs: 30_000 });
        answer.metadata = init.metadata ?? {};
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
          return { ...answer, success: false, message: `${err.errorCode}: ${err.message}` };
        }
        if (err.grpcCode === Code.DeadlineExceeded) throw timeout("The plugin did not answer in time", { collector_id: id });
        throw serviceUnavailable(`The plugin cannot be reached: ${err.message}`, { collector_id: id });
      }
      return answer;
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
