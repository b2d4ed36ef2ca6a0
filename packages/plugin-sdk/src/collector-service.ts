import type { JsonObject, MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { PlatformError, toConnectError } from "@cloudforet/errors";
import {
  Collector,
  CollectorCollectResponse_State,
  type CollectorCollectResponseSchema,
} from "@cloudforet/proto/cloudforet/inventory/plugin/v1/collector_pb";
import type { CollectedItem, CollectorPlugin } from "./plugin";

/** The ErrorInfo domain of failures a plugin reports. */
export const PLUGIN_ERROR_DOMAIN = "cloudforet.inventory.plugin.v1";

type CollectResponse = MessageInitShape<typeof CollectorCollectResponseSchema>;

/** The plugin's three functions as the Collector service's handlers. */
export function collectorService(plugin: CollectorPlugin, onError: (err: unknown) => void): ServiceImpl<typeof Collector> {
  const fail = (err: unknown): ConnectError => {
    if (err instanceof PlatformError) return toConnectError(err, PLUGIN_ERROR_DOMAIN);
    if (err instanceof ConnectError) return err;
    onError(err);
    return new ConnectError(err instanceof Error ? err.message : String(err), Code.Unknown);
  };
  return {
    async init(req) {
      try {
        return { metadata: await plugin.init(req.options ?? {}) };
      } catch (err) {
        throw fail(err);
      }
    },
    async verify(req) {
      try {
        await plugin.verify(req.options ?? {}, req.secretData ?? {});
        return {};
      } catch (err) {
        throw fail(err);
      }
    },
    async *collect(req, ctx) {
      try {
        const items = plugin.collect({ options: req.options ?? {}, secretData: req.secretData ?? {}, taskOptions: req.taskOptions ?? {}, signal: ctx.signal });
        for await (const item of items) yield toResponse(item);
      } catch (err) {
        if (ctx.signal.aborted) return;
        throw fail(err);
      }
    },
  };
}

/** One yielded item on the wire (SPEC's ResourceInfo). */
export function toResponse(item: CollectedItem): CollectResponse {
  switch (item.kind) {
    case "cloud_service":
      return {
        state: CollectorCollectResponse_State.SUCCESS,
        resourceType: "cloud_service.CloudService",
        resource: plainJson(item.resource),
        matchRules: item.matchRules ? Object.fromEntries(item.matchRules.map((keys, i) => [String(i + 1), keys])) : undefined,
      };
    case "cloud_service_type":
      return { state: CollectorCollectResponse_State.SUCCESS, resourceType: "cloud_service.CloudServiceType", resource: plainJson(item.resource) };
    case "failure":
      return {
        state: CollectorCollectResponse_State.FAILURE,
        message: item.message,
        resourceType: "cloud_service.CloudService",
        resource: plainJson(item.resource ?? {}),
      };
  }
}

/** Drops undefined members (a Struct cannot carry them) and anything else JSON cannot. */
function plainJson(value: object): JsonObject {
  return JSON.parse(JSON.stringify(value)) as JsonObject;
}
