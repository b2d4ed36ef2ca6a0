import { completed, isObject, permanent, retryable, type StepHandler } from "./handler";

const MAX_RESPONSE_BYTES = 10 * 1024 * 1024;
const METHODS = new Set(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]);

/**
 * A real HTTP call. `{ status, body }` for 1xx-3xx; a 5xx, 429, a network error or the timeout is
 * a retryable failure (the step's retry policy applies), any other 4xx a permanent one.
 */
export const httpRequest: StepHandler = {
  effects: "external",
  async run({ params, signal }) {
    const { url, body, headers } = params;
    if (typeof url !== "string" || url === "") return permanent("http_request: `url` is required");
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return permanent(`http_request: bad url ${JSON.stringify(url)}`);
    }
    if (target.protocol !== "http:" && target.protocol !== "https:") return permanent("http_request: url must be http or https");
    const method = typeof params.method === "string" ? params.method.toUpperCase() : "GET";
    if (!METHODS.has(method)) return permanent(`http_request: unsupported method ${method}`);
    const timeoutMs = params.timeout_ms === undefined ? 10_000 : Number(params.timeout_ms);
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) return permanent("http_request: timeout_ms must be a positive number");
    const requestHeaders: Record<string, string> = {};
    if (isObject(headers)) for (const [k, v] of Object.entries(headers)) if (typeof v === "string") requestHeaders[k] = v;
    let payload: string | undefined;
    if (body !== undefined && body !== null && method !== "GET" && method !== "HEAD") {
      payload = typeof body === "string" ? body : JSON.stringify(body);
      if (typeof body !== "string" && !Object.keys(requestHeaders).some((h) => h.toLowerCase() === "content-type")) requestHeaders["content-type"] = "application/json";
    }
    const abort = AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
    let response: Response;
    let text: string;
    try {
      response = await fetch(target, { method, headers: requestHeaders, body: payload, signal: abort, redirect: "follow" });
      text = await response.text();
    } catch (err) {
      if (abort.aborted) return retryable(`http_request: ${method} ${url} timed out after ${timeoutMs} ms`);
      return retryable(`http_request: ${method} ${url} failed: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`);
    }
    if (Buffer.byteLength(text) > MAX_RESPONSE_BYTES) return permanent(`http_request: response of ${url} exceeds 10 MB`);
    if (response.status >= 500 || response.status === 429) return retryable(`http_request: HTTP ${response.status} from ${url}`);
    if (response.status >= 400) return permanent(`http_request: HTTP ${response.status} from ${url}`);
    return completed({ status: response.status, body: text });
  },
};
