import { HealthCheckResponse_ServingStatus } from "@cloudforet/proto/grpc/health/v1/health_pb";
import { ClientError } from "@cloudforet/resilience";
import type { Logger } from "pino";
import { startBackgroundRounds } from "../background-rounds";
import type { PluginClients } from "../collection/plugin-clients";
import { isUnreachable, unreachableReason } from "./plugin-router";
import type { PluginRepository } from "./repository";

export interface PluginHealthCheckerOptions {
  registry: PluginRepository;
  /** Health clients per endpoint, through the outbound policy. */
  plugins: PluginClients;
  logger: Logger;
  /** INVENTORY_PLUGIN_HEALTH_INTERVAL_MS: how often each endpoint is checked. */
  intervalMs: number;
  /** Per check. */
  timeoutMs?: number;
}

/**
 * Checks every registered plugin endpoint with grpc.health.v1.Health/Check("") (every plugin built
 * on the plugin SDK serves it) and records HEALTHY or UNHEALTHY with the error; routing skips
 * UNHEALTHY endpoints. Connections go through the outbound policy, as plugin calls do. Replicas
 * share the work: each checks what is due, oldest first.
 */
export function startPluginHealthChecker(options: PluginHealthCheckerOptions) {
  const { registry, plugins, logger, intervalMs } = options;
  const timeoutMs = options.timeoutMs ?? Math.min(5_000, Math.max(200, intervalMs));
  let stopped = false;

  const checkDue = async () => {
    const due = await registry.dueForCheck(new Date(Date.now() - intervalMs), 100);
    const seen = new Set<string>();
    for (const endpoint of due) {
      if (stopped) return;
      const key = `${endpoint.domainId}\u0000${endpoint.pluginId}\u0000${endpoint.url}`;
      if (seen.has(key)) continue;
      seen.add(key);
      let health: "HEALTHY" | "UNHEALTHY" = "HEALTHY";
      let lastError = "";
      try {
        const answer = await plugins.healthFor(endpoint.url).check({ service: "" }, { timeoutMs });
        if (answer.status !== HealthCheckResponse_ServingStatus.SERVING) {
          health = "UNHEALTHY";
          lastError = `health check answered ${HealthCheckResponse_ServingStatus[answer.status]}`;
        }
      } catch (err) {
        health = "UNHEALTHY";
        const failure = ClientError.from(err);
        lastError = isUnreachable(err) ? unreachableReason(err) : `${failure.errorCode}: ${failure.message}`.slice(0, 1024);
      }
      if (health !== endpoint.health) logger.info({ plugin_id: endpoint.pluginId, domain_id: endpoint.domainId, url: endpoint.url, health, last_error: lastError }, "plugin endpoint health changed");
      await registry.recordHealth(endpoint, health, lastError);
    }
  };

  // One round per interval (an idle registry costs one query per interval); kick() for new endpoints.
  const rounds = startBackgroundRounds(
    async () => {
      await checkDue();
    },
    { intervalMs, logger, failure: "plugin health check round failed" },
  );
  return {
    /** Endpoints were added on this replica: check the unchecked ones now. */
    kick: () => rounds.kick(),
    async stop() {
      stopped = true;
      await rounds.stop();
    },
  };
}
