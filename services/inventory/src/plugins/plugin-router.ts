import { Code } from "@connectrpc/connect";
import { ErrorCode, invalidParameter, notFound } from "@cloudforet/errors";
import { isOutboundError } from "@cloudforet/outbound";
import { ClientError } from "@cloudforet/resilience";
import type { Logger } from "pino";
import type { CollectorRow, PluginEndpointRow, PluginRow } from "../db/schema";
import { DEFAULT_ALIAS, isVersion, routeCall, type RoutingMode } from "./plugins";
import type { PluginRepository } from "./repository";

/** How an unreachable endpoint's failure is recorded: always as ERROR_SERVICE_UNAVAILABLE, whatever the transport called it. */
export function unreachableReason(err: unknown): string {
  return `${ErrorCode.SERVICE_UNAVAILABLE}: ${ClientError.from(err).message}`.slice(0, 1024);
}

/** Which version and endpoints a call to a plugin uses, and why. */
export interface Resolution {
  plugin: PluginRow;
  version: string;
  /** The alias that named the version, if one did. */
  alias: string;
  mode: RoutingMode;
  /** In the order a call tries them (FAILOVER moves down the list on UNAVAILABLE). */
  candidates: PluginEndpointRow[];
  explanation: string;
}

/** Where one call to a collector's plugin goes: a registry resolution, or the collector's raw URL. */
export interface CallTargets {
  urls: string[];
  /** True: an UNAVAILABLE answer before any data moves the call to the next URL. */
  failover: boolean;
  resolution?: Resolution;
}

export const hasPlugin = (collector: Pick<CollectorRow, "pluginEndpoint" | "pluginId">) => collector.pluginEndpoint !== "" || collector.pluginId !== "";

/**
 * The endpoint did not take the call: UNAVAILABLE, or the connection failed (the outbound guard
 * reports a refused or reset connection as its own "connect" error, which Connect maps to UNKNOWN).
 * Only then is another endpoint tried: any other answer came from the plugin itself.
 */
export function isUnreachable(err: unknown): boolean {
  if (ClientError.from(err).grpcCode === Code.Unavailable) return true;
  for (let cause: unknown = err, depth = 0; cause && depth < 6; cause = (cause as { cause?: unknown }).cause, depth++) {
    if (isOutboundError(cause) && cause.kind === "connect") return true;
    if (cause instanceof Error && /^(\[unknown\] )?could not connect to /.test(cause.message)) return true;
  }
  return false;
}

/**
 * Resolves plugin references (plugin + version or alias) to endpoints at call time, so moving an
 * alias upgrades every collector naming it from its next call, and fails calls over between a
 * version's endpoints. An endpoint that answers UNAVAILABLE is marked UNHEALTHY at once; the health
 * checker marks it HEALTHY again when it answers.
 */
export class PluginRouter {
  constructor(
    private readonly registry: PluginRepository,
    private readonly logger: Logger,
  ) {}

  async resolve(domainId: string, pluginId: string, ref: string, random?: number): Promise<Resolution> {
    const plugin = await this.registry.get(domainId, pluginId);
    if (!plugin) throw notFound("Plugin not found", { plugin_id: pluginId });
    let version = ref;
    let alias = "";
    let how: string;
    if (ref && isVersion(ref)) {
      if (!(await this.registry.versionExists(domainId, pluginId, ref))) throw invalidParameter("Unknown version of the plugin", { parameter: "version", value: ref, plugin_id: pluginId });
      how = `version ${ref}`;
    } else {
      const named = await this.registry.alias(domainId, pluginId, ref || DEFAULT_ALIAS);
      if (named) {
        alias = named.name;
        version = named.version;
        how = `alias ${alias} → ${version}`;
      } else if (ref) {
        throw invalidParameter("Unknown alias of the plugin", { parameter: "version", value: ref, plugin_id: pluginId });
      } else {
        const [newest] = await this.registry.versionsOf(domainId, pluginId);
        if (!newest) throw invalidParameter("The plugin has no version yet", { parameter: "version", plugin_id: pluginId });
        version = newest;
        how = `no alias ${DEFAULT_ALIAS}: newest version ${newest}`;
      }
    }
    const endpoints = await this.registry.endpointsOf(domainId, pluginId, version);
    const route = routeCall(endpoints, plugin.routingMode, random);
    return { plugin, version, alias, mode: plugin.routingMode, candidates: route.candidates, explanation: `${how}; ${route.explanation}` };
  }

  /** Where a collector's next call goes. */
  async targetsOf(collector: Pick<CollectorRow, "domainId" | "pluginEndpoint" | "pluginId" | "pluginVersion">): Promise<CallTargets> {
    if (!collector.pluginId) return { urls: [collector.pluginEndpoint], failover: false };
    const resolution = await this.resolve(collector.domainId, collector.pluginId, collector.pluginVersion);
    return { urls: resolution.candidates.map((e) => e.url), failover: resolution.mode === "FAILOVER", resolution };
  }

  /** A unary call through the targets: the next URL is tried when one answers UNAVAILABLE (FAILOVER only). */
  async call<T>(targets: CallTargets, attempt: (url: string) => Promise<T>): Promise<T> {
    const urls = targets.failover ? targets.urls : targets.urls.slice(0, 1);
    for (let i = 0; ; i++) {
      try {
        return await attempt(urls[i]);
      } catch (err) {
        if (!isUnreachable(err)) throw err;
        await this.markUnavailable(targets, urls[i], err);
        if (i + 1 >= urls.length) throw err;
        this.logger.warn({ plugin_id: targets.resolution?.plugin.pluginId, from: urls[i], to: urls[i + 1] }, "plugin endpoint unavailable: failing over");
      }
    }
  }

  /**
   * A server stream through the targets: when one URL fails with UNAVAILABLE before it yielded
   * anything, the stream is opened on the next one (FAILOVER only). Once data has flowed, an error
   * ends the stream: the items seen cannot be taken back.
   */
  async *stream<T>(targets: CallTargets, open: (url: string) => AsyncIterable<T>): AsyncGenerator<T> {
    const urls = targets.failover ? targets.urls : targets.urls.slice(0, 1);
    for (let i = 0; ; i++) {
      let yielded = false;
      try {
        for await (const item of open(urls[i])) {
          yielded = true;
          yield item;
        }
        return;
      } catch (err) {
        if (yielded || !isUnreachable(err)) throw err;
        await this.markUnavailable(targets, urls[i], err);
        if (i + 1 >= urls.length) throw err;
        this.logger.warn({ plugin_id: targets.resolution?.plugin.pluginId, from: urls[i], to: urls[i + 1] }, "plugin endpoint unavailable: failing over");
      }
    }
  }

  private async markUnavailable(targets: CallTargets, url: string, err: unknown): Promise<void> {
    const plugin = targets.resolution?.plugin;
    if (!plugin) return;
    await this.registry
      .recordHealth({ domainId: plugin.domainId, pluginId: plugin.pluginId, url }, "UNHEALTHY", unreachableReason(err))
      .catch((recordErr) => this.logger.warn({ err: recordErr }, "could not record an endpoint's health"));
  }
}
