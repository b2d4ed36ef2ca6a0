import type { JsonObject } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { PlatformError } from "@cloudforet/errors";
import { HealthCheckResponse_ServingStatus } from "@cloudforet/proto/grpc/health/v1/health_pb";
import { ClientError, ErrorCategory } from "@cloudforet/resilience";
import type { JsonSealer } from "@cloudforet/runtime";
import type { Logger } from "pino";
import { startBackgroundRounds } from "../background-rounds";
import type { PluginClients } from "../collection/plugin-clients";
import type { EnrollmentRow } from "../db/schema";
import { storedText } from "../jobs/stored-text";
import type { PluginRouter } from "../plugins/plugin-router";
import { MAX_VERIFY_ATTEMPTS, retryDelayMs, verifyRequestOf } from "./enrollments";
import type { EnrollmentRepository } from "./repository";

export interface EnrollmentVerifierOptions {
  enrollments: EnrollmentRepository;
  router: PluginRouter;
  plugins: PluginClients;
  sealer: JsonSealer<JsonObject>;
  logger: Logger;
  /** INVENTORY_ENROLLMENT_POLL_MS: how often PENDING enrollments are looked for (a Create on this replica wakes it at once). */
  pollMs: number;
}

export const enrollmentBinding = (domainId: string, enrollmentId: string) => `enrollment:${domainId}:${enrollmentId}`;

/** A verification's end: ACTIVE, FAILED with the reason, or "try again later" (the plugin could not be reached). */
type Outcome = { status: "ACTIVE" | "FAILED"; reason: string; resolvedVersion: string } | { retry: string; resolvedVersion: string };

/**
 * Moves PENDING enrollments on: resolves the plugin version (alias at that moment), calls the
 * plugin's Verify with the enrollment's parameters (a collector plugin; a notification protocol
 * plugin is checked with grpc.health.v1.Health), through the version's endpoints with its routing.
 * A plugin refusing the parameters, or a version that no longer resolves, is FAILED with the reason;
 * an unreachable plugin is tried again with backoff, FAILED after MAX_VERIFY_ATTEMPTS.
 */
export function startEnrollmentVerifier(options: EnrollmentVerifierOptions) {
  const { enrollments, router, plugins, sealer, logger, pollMs } = options;
  let stopped = false;

  async function verify(row: EnrollmentRow): Promise<Outcome> {
    let resolvedVersion = "";
    try {
      const parameters = sealer.open(row.sealedParameters, enrollmentBinding(row.domainId, row.enrollmentId));
      const targets = await router.targetsOf({ domainId: row.domainId, pluginEndpoint: "", pluginId: row.pluginId, pluginVersion: row.version });
      resolvedVersion = targets.resolution?.version ?? "";
      if (targets.urls.length === 0) return { status: "FAILED", reason: `version ${resolvedVersion} has no endpoint`, resolvedVersion };
      if (targets.resolution?.plugin.kind === "NOTIFICATION_PROTOCOL") {
        const answer = await router.call(targets, (url) => plugins.healthFor(url).check({ service: "" }, { timeoutMs: 10_000 }));
        if (answer.status !== HealthCheckResponse_ServingStatus.SERVING) return { retry: `health check answered ${HealthCheckResponse_ServingStatus[answer.status]}`, resolvedVersion };
      } else {
        const request = verifyRequestOf(parameters);
        await router.call(targets, (url) => plugins.for(url).verify(request, { timeoutMs: 30_000 }));
      }
      return { status: "ACTIVE", reason: "", resolvedVersion };
    } catch (err) {
      if (err instanceof PlatformError) return { status: "FAILED", reason: storedText(`${err.code}: ${err.message}`), resolvedVersion };
      const failure = ClientError.from(err);
      const refused = failure.category === ErrorCategory.AUTH || failure.category === ErrorCategory.VALIDATION || failure.category === ErrorCategory.PERMISSION || failure.category === ErrorCategory.NOT_FOUND;
      const reason = storedText(`${failure.errorCode}: ${failure.message}`);
      if (refused || (failure.grpcCode !== Code.Unavailable && failure.grpcCode !== Code.DeadlineExceeded)) return { status: "FAILED", reason, resolvedVersion };
      return { retry: reason, resolvedVersion };
    }
  }

  /** Verifies what is pending, 16 at a time; answers when the soonest retry it scheduled is due. */
  const round = async (): Promise<number | undefined> => {
    let soonestRetryMs: number | undefined;
    let more: boolean;
    do {
      const claimed = await enrollments.claimPending(16, 120_000);
      await Promise.all(
        claimed.map(async (row) => {
          const outcome = await verify(row);
          const log = logger.child({ enrollment_id: row.enrollmentId, plugin_id: row.pluginId, domain_id: row.domainId });
          if ("retry" in outcome) {
            if (row.attempts + 1 >= MAX_VERIFY_ATTEMPTS) {
              await enrollments.finish(row, { status: "FAILED", reason: outcome.retry, resolvedVersion: outcome.resolvedVersion });
              log.warn({ reason: outcome.retry, attempts: row.attempts + 1 }, "enrollment failed: the plugin could not be reached");
            } else {
              const delayMs = retryDelayMs(row.attempts + 1);
              soonestRetryMs = Math.min(soonestRetryMs ?? Infinity, delayMs);
              await enrollments.retryLater(row, new Date(Date.now() + delayMs), outcome.retry);
              log.info({ reason: outcome.retry, attempts: row.attempts + 1 }, "enrollment verification will be tried again");
            }
            return;
          }
          await enrollments.finish(row, outcome);
          log.info({ status: outcome.status, reason: outcome.reason, resolved_version: outcome.resolvedVersion }, "enrollment verified");
        }),
      );
      more = claimed.length === 16;
    } while (more && !stopped);
    return soonestRetryMs;
  };

  const rounds = startBackgroundRounds(round, { intervalMs: pollMs, logger, failure: "enrollment verification round failed" });
  return {
    /** A new enrollment on this replica: look at once (or right after the running round). */
    kick: () => rounds.kick(),
    async stop() {
      stopped = true;
      await rounds.stop();
    },
  };
}
