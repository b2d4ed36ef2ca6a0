import { outboundRequest, redactUrl, type OutboundPolicy, type OutboundResponse } from "@cloudforet/outbound";
import { isOutboundError } from "@cloudforet/outbound";
import { completed, isObject, permanent, retryable, type StepHandler } from "./handler";

const METHODS = new Set(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]);

/**
 * A real HTTP call under the outbound policy (packages/outbound): no loopback, private, link-local
 * or metadata address, redirects re-checked, the body capped. `{ status, body }` for 1xx-3xx; a
 * 5xx, 429, a network error or the timeout is a retryable failure (the step's retry policy
 * applies), any other 4xx, a refused address or an oversized answer a permanent one. Error texts
 * name the URL without credentials and never carry the upstream's body.
 */
export function httpRequest(policy: OutboundPolicy): StepHandler {
  return {
    effects: "external",
    async run({ params, signal }) {
      const { url, body, headers } = params;
      if (typeof url !== "string" || url === "") return permanent("http_request: `url` is required");
      let target: URL;
      try {
        target = new URL(url);
      } catch {
        return permanent(`http_request: bad url ${JSON.stringify(redactUrl(url).slice(0, 256))}`);
      }
      const shown = redactUrl(target.toString());
      if (target.protocol !== "http:" && target.protocol !== "https:") return permanent("http_request: url must be http or https");
      const method = typeof params.method === "string" ? params.method.toUpperCase() : "GET";
      if (!METHODS.has(method)) return permanent(`http_request: unsupported method ${method}`);
      const timeoutMs = params.timeout_ms === undefined ? policy.timeoutMs : Number(params.timeout_ms);
      if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) return permanent("http_request: timeout_ms must be a positive number");
      const requestHeaders: Record<string, string> = {};
      if (isObject(headers)) for (const [k, v] of Object.entries(headers)) if (typeof v === "string") requestHeaders[k] = v;
      let payload: string | undefined;
      if (body !== undefined && body !== null && method !== "GET" && method !== "HEAD") {
        payload = typeof body === "string" ? body : JSON.stringify(body);
        if (typeof body !== "string" && !Object.keys(requestHeaders).some((h) => h.toLowerCase() === "content-type")) requestHeaders["content-type"] = "application/json";
      }
      let response: OutboundResponse;
      try {
        response = await outboundRequest(policy, { url: target, method, headers: requestHeaders, body: payload, signal, timeoutMs });
      } catch (err) {
        if (!isOutboundError(err)) return retryable(`http_request: ${method} ${shown} failed`);
        // A refusal names the host only: the same text for every port, so it maps nothing.
        if (err.kind === "refused") return permanent(`http_request: ${err.message}`);
        const message = `http_request: ${method} ${shown}: ${err.message}`;
        return err.retryable ? retryable(message) : permanent(message);
      }
      if (response.status >= 500 || response.status === 429) return retryable(`http_request: HTTP ${response.status} from ${shown}`);
      if (response.status >= 400) return permanent(`http_request: HTTP ${response.status} from ${shown}`);
      return completed({ status: response.status, body: response.body.toString("utf8") });
    },
  };
}
