import type { JsonObject } from "@bufbuild/protobuf";
import { cloudService, definePlugin, itemFailure, type CollectorPlugin } from "@cloudforet/plugin-sdk";
import type { Logger } from "pino";
import { mapInventory, readInventory } from "./inventory";
import { PROVIDER, RESOURCE_TYPES } from "./mapping";
import { connectionFromSecret } from "./prism/connection";
import { PrismBreaker, type PrismBreakerOptions } from "./prism/prism-breaker";
import { PrismClient } from "./prism/prism-client";
import { settingsFrom } from "./settings";

export const PLUGIN_VERSION = "1.0.0";

/**
 * The Nutanix collector as a pull plugin (cloudforet.inventory.plugin.v1.Collector): Init validates the
 * options, Verify logs into Prism with the account's secret, Collect yields the account's subnets,
 * VMs and disks. Prism failures are thrown as PlatformErrors with their SPEC §3 code (a rejected
 * login is ERROR_AUTHENTICATE_FAILURE, an unhealthy Prism ERROR_SERVICE_UNAVAILABLE).
 */
export function nutanixPlugin(logger: Logger): CollectorPlugin {
  // One breaker per Prism (and breaker settings) for the plugin's lifetime: once a Prism is down,
  // the next task's Verify and Collect fail fast instead of waiting out the retries again.
  const breakers = new Map<string, PrismBreaker>();
  const breakerFor = (baseUrl: string, options: PrismBreakerOptions = {}) => {
    const key = `${baseUrl}|${options.failureThreshold ?? ""}|${options.resetTimeoutMs ?? ""}`;
    let breaker = breakers.get(key);
    if (!breaker) breakers.set(key, (breaker = new PrismBreaker(logger.child({ prism: baseUrl }), options)));
    return breaker;
  };
  const clientFor = (options: JsonObject, secretData: JsonObject, signal?: AbortSignal) => {
    const settings = settingsFrom(options);
    const connection = connectionFromSecret(secretData, settings.prismUrl);
    const breaker = breakerFor(connection.baseUrl, settings.prism.breaker);
    return { settings, connection, client: new PrismClient(connection, { ...settings.prism, breaker, logger, signal }) };
  };
  return definePlugin({
    init(options) {
      settingsFrom(options);
      return {
        supported_resource_type: ["cloud_service.CloudService"],
        supported_providers: [PROVIDER],
        cloud_service_types: [...RESOURCE_TYPES],
        version: PLUGIN_VERSION,
      };
    },

    async verify(options, secretData) {
      const { client } = clientFor(options, secretData);
      try {
        await client.verify();
      } finally {
        client.close();
      }
    },

    async *collect({ options, secretData, taskOptions, signal }) {
      const { settings, connection, client } = clientFor(options, secretData, signal);
      const account = typeof taskOptions.service_account_id === "string" ? taskOptions.service_account_id : "";
      const log = logger.child({ job_task_id: taskOptions.job_task_id, service_account_id: account });
      try {
        const inventory = await readInventory(client, settings.includeResources);
        log.info({ clusters: inventory.clusters.length, subnets: inventory.subnets.length, vms: inventory.vms.length, prism_calls: client.attempts }, "read Prism inventory");
        for (const mapped of mapInventory(inventory, settings.includeResources, { prismUrl: connection.baseUrl, account })) {
          if (signal.aborted) return;
          yield mapped.ok ? cloudService(mapped.resource) : itemFailure(mapped.message, { reference: { resource_id: mapped.resourceId } });
        }
      } finally {
        client.close();
      }
    },
  });
}
