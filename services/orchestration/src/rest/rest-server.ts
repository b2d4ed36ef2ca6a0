import http from "node:http";
import type { AddressInfo } from "node:net";
import { Code } from "@connectrpc/connect";
import { isConnectionError } from "@cloudforet/db";
import { PlatformError, invalidParameter, payloadTooLarge, taxonomy } from "@cloudforet/errors";
import type { Logger } from "pino";

export interface RestRequest {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  /** The parsed JSON body (undefined when there is none). */
  body(): Promise<unknown>;
  /** Aborts when the client goes away before the answer is sent (ends a long poll). */
  signal: AbortSignal;
}

export interface RestResponse {
  status: number;
  body?: unknown;
  /** Raw text instead of JSON (metrics). */
  text?: string;
  contentType?: string;
}

export type RestHandler = (req: RestRequest) => Promise<RestResponse>;

interface Route {
  method: string;
  pattern: RegExp;
  names: string[];
  handler: RestHandler;
}

/** A tiny router: "/instances/:id/state" style paths, first match wins. */
export class RestRouter {
  private readonly routes: Route[] = [];

  on(method: string, path: string, handler: RestHandler): this {
    const names: string[] = [];
    const pattern = new RegExp(
      `^${path.replace(/:[a-z_]+/g, (m) => {
        names.push(m.slice(1));
        return "([^/]+)";
      })}/?$`,
    );
    this.routes.push({ method, pattern, names, handler });
    return this;
  }

  match(method: string, path: string): { handler: RestHandler; params: Record<string, string> } | "method" | undefined {
    let pathMatched = false;
    for (const route of this.routes) {
      const m = route.pattern.exec(path);
      if (!m) continue;
      pathMatched = true;
      if (route.method !== method) continue;
      const params: Record<string, string> = {};
      route.names.forEach((name, i) => (params[name] = decodeURIComponent(m[i + 1])));
      return { handler: route.handler, params };
    }
    return pathMatched ? "method" : undefined;
  }
}

/** The REST status of a domain error: the taxonomy's, except an illegal state change, which the seed answers 400. */
export function restStatusOf(err: PlatformError): number {
  if (err.grpcCode === Code.FailedPrecondition) return 400;
  return taxonomy[err.code].http;
}

/** `{"error": "..."}` with the parameter named when the message does not already say it. */
export function restErrorBody(err: PlatformError): { error: string } {
  const parameter = err.metadata.parameter;
  return { error: parameter && !err.message.includes(parameter) ? `${err.message}: ${parameter}` : err.message };
}

async function readBody(req: http.IncomingMessage, maxBytes: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw payloadTooLarge(`request body exceeds ${maxBytes} bytes`, { limit: maxBytes });
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw invalidParameter("request body is not valid JSON");
  }
}

export interface RestServerOptions {
  host: string;
  port: number;
  router: RestRouter;
  logger: Logger;
  maxRequestBytes: number;
}

export interface RunningRestServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Serves the router on its own port with JSON in and out and the seed's `{"error": …}` bodies. */
export async function startRestServer(options: RestServerOptions): Promise<RunningRestServer> {
  const { router, logger } = options;
  const server = http.createServer((req, res) => {
    const started = performance.now();
    const url = new URL(req.url ?? "/", "http://localhost");
    const method = req.method ?? "GET";
    const send = (status: number, body: unknown, contentType = "application/json") => {
      const payload = typeof body === "string" && contentType !== "application/json" ? body : JSON.stringify(body);
      res.writeHead(status, { "content-type": contentType, "content-length": Buffer.byteLength(payload) });
      res.end(payload);
      logger.debug({ method, path: url.pathname, status, ms: Math.round(performance.now() - started) }, "rest request");
    };
    const route = router.match(method, url.pathname);
    if (route === undefined) return send(404, { error: `no route for ${method} ${url.pathname}` });
    if (route === "method") return send(405, { error: `method ${method} not allowed on ${url.pathname}` });
    let bodyRead: Promise<unknown> | undefined;
    const gone = new AbortController();
    res.once("close", () => {
      if (!res.writableFinished) gone.abort();
    });
    const request: RestRequest = {
      method,
      path: url.pathname,
      params: route.params,
      query: url.searchParams,
      headers: req.headers,
      body: () => (bodyRead ??= readBody(req, options.maxRequestBytes)),
      signal: gone.signal,
    };
    route.handler(request).then(
      (response) => {
        if (response.text !== undefined) send(response.status, response.text, response.contentType ?? "text/plain");
        else if (response.status === 204) {
          res.writeHead(204);
          res.end();
        } else send(response.status, response.body ?? {});
      },
      (err: unknown) => {
        if (err instanceof PlatformError) return send(restStatusOf(err), restErrorBody(err));
        if (isConnectionError(err)) {
          logger.warn({ err }, "storage unavailable");
          return send(503, { error: "storage unavailable; retry later" });
        }
        logger.error({ err, method, path: url.pathname }, "unexpected error in REST handler");
        send(500, { error: "internal error" });
      },
    );
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host === "0.0.0.0" || options.host === "::" ? "127.0.0.1" : options.host;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    port,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 2_000).unref();
      });
    },
  };
}
