import http, { type IncomingHttpHeaders, type IncomingMessage } from "node:http";
import https from "node:https";
import { readCappedBody } from "./capped-body";
import { OutboundError, connectError, isOutboundError } from "./outbound-error";
import type { OutboundPolicy } from "./outbound-policy";

export interface OutboundRequest {
  url: string | URL;
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Cancels the request (the step's or the delivery's own signal). */
  signal?: AbortSignal;
  /** Deadline of the whole exchange; capped by the policy's timeout. */
  timeoutMs?: number;
  /** Redirects followed, each re-checked against the policy (default 5; 0 returns the 3xx as is). */
  maxRedirects?: number;
  /** Skip reading the body: the connection is closed at once, nothing of it is read. */
  discardBody?: boolean;
}

export interface OutboundResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Where the answer came from after redirects. */
  url: URL;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const CREDENTIAL_HEADERS = ["authorization", "proxy-authorization", "cookie"];

/**
 * An HTTP(S) request under the outbound policy: the host is checked up front when it is an IP
 * literal and inside the connect (`lookup`) when it is a name, every redirect is followed by hand
 * and checked again, the body is cut at the size cap and the whole exchange at the deadline.
 * Failures are OutboundErrors whose messages name only the host.
 */
export async function outboundRequest(policy: OutboundPolicy, request: OutboundRequest): Promise<OutboundResponse> {
  const timeoutMs = Math.min(request.timeoutMs ?? policy.timeoutMs, policy.timeoutMs);
  const deadline = AbortSignal.timeout(timeoutMs);
  const signal = request.signal ? AbortSignal.any([request.signal, deadline]) : deadline;
  let url = new URL(request.url);
  let method = (request.method ?? "GET").toUpperCase();
  let body = request.body;
  const headers: Record<string, string> = { ...(request.headers ?? {}) };
  // Ask for the body as is; a peer that compresses anyway is inflated under the same cap (capped-body.ts).
  if (!Object.keys(headers).some((name) => name.toLowerCase() === "accept-encoding")) headers["accept-encoding"] = "identity";
  const maxRedirects = request.maxRedirects ?? 5;
  for (let hop = 0; ; hop++) {
    let response: IncomingMessage;
    try {
      response = await send(policy, url, method, headers, body, signal);
    } catch (err) {
      throw outboundFailure(err, url, deadline, timeoutMs, request.signal);
    }
    const location = response.headers.location;
    if (!REDIRECTS.has(response.statusCode ?? 0) || !location || maxRedirects === 0) {
      try {
        // Discarding closes the connection (agent-less, nothing to keep alive) instead of draining
        // whatever the peer sends: an error body of 1 GiB is never read.
        const bytes = method === "HEAD" || request.discardBody ? (response.destroy(), Buffer.alloc(0)) : await readCappedBody(response, policy.maxResponseBytes, url.hostname, signal);
        return { status: response.statusCode ?? 0, headers: response.headers, body: bytes, url };
      } catch (err) {
        throw outboundFailure(err, url, deadline, timeoutMs, request.signal);
      }
    }
    response.destroy();
    if (hop >= maxRedirects) throw new OutboundError("redirect", `too many redirects (more than ${maxRedirects}) from ${url.hostname}`);
    let next: URL;
    try {
      next = new URL(location, url);
    } catch {
      throw new OutboundError("redirect", `${url.hostname} answered with a malformed redirect`);
    }
    if (next.protocol !== "http:" && next.protocol !== "https:") throw new OutboundError("redirect", `${url.hostname} redirected to a non-http(s) URL`);
    // Credentials were meant for the first origin, not wherever it points.
    if (next.origin !== url.origin) for (const name of Object.keys(headers)) if (CREDENTIAL_HEADERS.includes(name.toLowerCase())) delete headers[name];
    if (response.statusCode === 303 || ((response.statusCode === 301 || response.statusCode === 302) && method === "POST")) {
      if (method !== "HEAD") method = "GET";
      body = undefined;
      for (const name of Object.keys(headers)) if (["content-type", "content-length"].includes(name.toLowerCase())) delete headers[name];
    }
    url = next;
  }
}

function send(policy: OutboundPolicy, url: URL, method: string, headers: Record<string, string>, body: string | Buffer | undefined, signal: AbortSignal): Promise<IncomingMessage> {
  if (url.protocol !== "http:" && url.protocol !== "https:") return Promise.reject(new OutboundError("connect", "only http and https URLs are supported"));
  policy.checkHost(url.hostname);
  const client = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(
      url,
      {
        method,
        headers: body === undefined ? headers : { ...headers, "content-length": String(Buffer.byteLength(body)) },
        // Our own agent-less connection: no keep-alive socket opened by anyone else is reused, and
        // every connect goes through the policy's lookup.
        agent: false,
        lookup: policy.lookup,
        signal,
      },
      resolve,
    );
    req.on("error", reject);
    req.end(body);
  });
}

function outboundFailure(err: unknown, url: URL, deadline: AbortSignal, timeoutMs: number, callerSignal?: AbortSignal): Error {
  if (isOutboundError(err)) return err;
  if (callerSignal?.aborted && !deadline.aborted) return new OutboundError("timeout", "the request was canceled");
  if (deadline.aborted) return new OutboundError("timeout", `timed out after ${timeoutMs} ms`);
  return connectError(url.hostname.replace(/^\[|\]$/g, ""));
}
