import type { OutboundPolicy } from "@cloudforet/outbound";
import { ClientError, ErrorCategory } from "@cloudforet/resilience";
import { completed, permanent, retryable, type StepHandler } from "../engine/handlers/handler";
import { httpRequest } from "../engine/handlers/http-request";
import type { RecurrentRequests } from "./recurrent-requests";

/**
 * The step of the built-in recurrent-request sequence: reads the request named by
 * `context.data.recurrent_request_id` (in the instance's tenant), opens its sealed credentials and
 * makes the call through http_request, so 5xx/429/network errors are retryable and other 4xx
 * permanent. Credentials live only in memory for the call: never in the context, the output or logs.
 *
 * URL targets go through the outbound policy like any http_request. RPC targets call the platform's
 * own services at the operator-configured CLOUDFORET_<SERVICE>_URL (usually internal addresses), so
 * only those hosts are added to the policy for them: `platformPolicy`.
 */
export function recurrentRequestHandler(requests: RecurrentRequests, outbound: { policy: OutboundPolicy; platformPolicy: OutboundPolicy }): StepHandler {
  const userCall = httpRequest(outbound.policy);
  const platformCall = httpRequest(outbound.platformPolicy);
  return {
    effects: "external",
    async run(step) {
      const data = (step.context.data ?? {}) as Record<string, unknown>;
      let call;
      try {
        call = await requests.resolveCall(data.recurrent_request_id, step.instance);
      } catch (err) {
        // Identity away while minting the run-as token: a later attempt may succeed.
        if (err instanceof ClientError && (err.category === ErrorCategory.TRANSIENT || err.category === ErrorCategory.SERVER)) {
          return retryable(`recurrent_request: the service identity's token: ${err.message}`);
        }
        return permanent(`recurrent_request: ${(err as Error).message}`);
      }
      const handler = call.platform ? platformCall : userCall;
      const outcome = await handler.run({ ...step, params: { url: call.url, method: call.method, headers: call.headers, body: call.body ?? null, timeout_ms: step.timeoutMs ?? 30_000 } });
      if (outcome.kind !== "completed") return outcome;
      // http_request's output is {status, body}; name the target for whoever reads the outputs.
      return completed({ ...outcome.output, target: call.url.replace(/\?.*$/, "") });
    },
  };
}

/** The policy for rpc targets: the base one plus the hosts of the configured platform service URLs. */
export function platformPolicyOf(policy: OutboundPolicy, serviceUrls: Record<string, string>): OutboundPolicy {
  const hosts = Object.values(serviceUrls).flatMap((url) => {
    try {
      return [new URL(url).hostname];
    } catch {
      return [];
    }
  });
  return hosts.length > 0 ? policy.withAllowed(hosts) : policy;
}
