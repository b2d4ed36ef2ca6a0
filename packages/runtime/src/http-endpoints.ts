import type http from "node:http";
import type http2 from "node:http2";
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
