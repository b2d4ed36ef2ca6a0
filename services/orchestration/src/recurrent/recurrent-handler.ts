import { completed, permanent, type StepHandler } from "../engine/handlers/handler";
import { httpRequest } from "../engine/handlers/http-request";
import type { RecurrentRequests } from "./recurrent-requests";

/**
 * The step of the built-in recurrent-request sequence: reads the request named by
 * `context.data.recurrent_request_id` (in the instance's tenant), opens its sealed credentials and
 * makes the call through http_request, so 5xx/429/network errors are retryable and other 4xx
 * permanent. Credentials live only in memory for the call: never in the context, the output or logs.
 */
export function recurrentRequestHandler(requests: RecurrentRequests): StepHandler {
  return {
    effects: "external",
    async run(step) {
      const data = (step.context.data ?? {}) as Record<string, unknown>;
      let call;
      try {
        call = await requests.resolveCall(data.recurrent_request_id, step.instance.tenantId);
      } catch (err) {
        return permanent(`recurrent_request: ${(err as Error).message}`);
      }
      const outcome = await httpRequest.run({ ...step, params: { url: call.url, method: call.method, headers: call.headers, body: call.body ?? null, timeout_ms: step.timeoutMs ?? 30_000 } });
      if (outcome.kind !== "completed") return outcome;
      // http_request's output is {status, body}; name the target for whoever reads the outputs.
      return completed({ ...outcome.output, target: call.url.replace(/\?.*$/, "") });
    },
  };
}
