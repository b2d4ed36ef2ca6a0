import type http from "node:http";
import type http2 from "node:http2";
import { errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import { taxonomy, toConnectError, type PlatformError } from "@cloudforet/errors";
import type { Registry } from "prom-client";

export type HttpRequest = http.IncomingMessage | http2.Http2ServerRequest;
export type HttpResponse = http.ServerResponse | http2.Http2ServerResponse;
/** A plain-HTTP route handler; answers `true` when it handled the request. */
export type HttpHandler = (req: HttpRequest, res: HttpResponse) => boolean | Promise<boolean>;

export type ReadinessChecks = Record<string, () => Promise<void>>;

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, "ok" | string>;
}

/** Runs every readiness check (each bounded by `timeoutMs`) and reports which failed and why. */
export async function checkReadiness(checks: ReadinessChecks, timeoutMs = 2000): Promise<ReadinessReport> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      try {
        await withTimeout(check(), timeoutMs, `${name} check timed out after ${timeoutMs} ms`);
        return [name, "ok"] as const;
      } catch (err) {
        return [name, err instanceof Error ? err.message : String(err)] as const;
      }
    }),
  );
  return { ready: entries.every(([, result]) => result === "ok"), checks: Object.fromEntries(entries) };
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function sendJson(res: HttpResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(payload), ...headers });
  res.end(payload);
}

/**
 * The body of a plain-HTTP error on a service port: the Connect protocol's error JSON
 * (`{"code", "message", "details": [google.rpc.ErrorInfo]}`), as every RPC error reads.
 */
export function taxonomyErrorBody(err: PlatformError, domain: string, requestId?: string): string {
  return new TextDecoder().decode(errorToJsonBytes(toConnectError(err, domain, requestId), {}));
}

/** Answers a plain-HTTP request with a taxonomy error (status: the taxonomy's unless given). */
export function sendTaxonomyError(res: HttpResponse, err: PlatformError, domain: string, status = taxonomy[err.code].http, headers: Record<string, string> = {}): void {
  const payload = taxonomyErrorBody(err, domain);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(payload), ...headers });
  res.end(payload);
}

/** A whole HTTP/1.1 answer for a socket whose request could not be parsed; the connection closes after it. */
export function rawHttpResponse(status: number, reason: string, body: string, contentType = "application/json"): string {
  return `HTTP/1.1 ${status} ${reason}\r\ncontent-type: ${contentType}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
}

/**
 * What is wrong with a request target, or undefined: it must be a path ("/…") that parses as a
 * URL and whose percent-encoding decodes.
 */
export function requestTargetProblem(target: string | undefined): string | undefined {
  if (!target || target[0] !== "/") return "the request target must be a path";
  let url: URL;
  try {
    url = new URL(target, "http://localhost");
  } catch {
    return "the request target is not a valid URL";
  }
  try {
    decodeURIComponent(url.pathname);
    decodeURIComponent(url.search.replace(/\+/g, " "));
  } catch {
    return "the request target has malformed percent-encoding";
  }
  return undefined;
}

/** GET /health/live, GET /health/ready (503 while a dependency is unreachable), GET /metrics. */
export function operationalEndpoints(registry: Registry, readiness: () => Promise<ReadinessReport>): HttpHandler {
  return async (req, res) => {
    if (req.method !== "GET") return false;
    const path = (req.url ?? "").split("?")[0];
    switch (path) {
      case "/health/live":
        sendJson(res, 200, { status: "ok" });
        return true;
      case "/health/ready": {
        const report = await readiness();
        sendJson(res, report.ready ? 200 : 503, { status: report.ready ? "ok" : "unavailable", checks: report.checks });
        return true;
      }
      case "/metrics": {
        const body = await registry.metrics();
        res.writeHead(200, { "content-type": registry.contentType });
        res.end(body);
        return true;
      }
      default:
        return false;
    }
  };
}
