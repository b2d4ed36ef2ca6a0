import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { Code } from "@connectrpc/connect";
import { isConnectionError } from "@cloudforet/db";
import { PlatformError, invalidParameter, payloadTooLarge, taxonomy } from "@cloudforet/errors";
import { answerClientError, readTransportLimits, type TransportLimits } from "@cloudforet/runtime";
import type { Logger } from "pino";
import { decodePathParameter, jsonBodyProblem, queryProblem } from "./rest-input";

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
  /** A streamed answer (Server-Sent Events): writes status, headers and body itself, until it resolves. */
  stream?: (res: http.ServerResponse) => Promise<void>;
}

export type RestHandler = (req: RestRequest) => Promise<RestResponse>;

interface Route {
  method: string;
  /** As registered ("/instances/:id/state"). */
  path: string;
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
    this.routes.push({ method, path, pattern, names, handler });
    return this;
  }

  /** Every registered route, in registration order (the access check and its test walk them). */
  list(): { method: string; path: string; handler: RestHandler }[] {
    return this.routes.map(({ method, path, handler }) => ({ method, path, handler }));
  }

  match(method: string, path: string): { handler: RestHandler; params: Record<string, string> } | "method" | undefined {
    let pathMatched = false;
    for (const route of this.routes) {
      const m = route.pattern.exec(path);
      if (!m) continue;
      pathMatched = true;
      if (route.method !== method) continue;
      const params: Record<string, string> = {};
      for (let i = 0; i < route.names.length; i++) {
        const decoded = decodePathParameter(m[i + 1], route.names[i]);
        // match must not throw (its caller is the listener): a bad parameter is a handler answering 400.
        if (typeof decoded !== "string") return {
            handler: async () => {
              throw decoded;
            },
            params: {},
          };
        params[route.names[i]] = decoded;
      }
      const handler = route.handler;
      return {
        handler: async (req) => {
          const problem = queryProblem(req.query);
          if (problem) throw problem;
          return handler(req);
        },
        params,
      };
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
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw invalidParameter("request body is not valid JSON");
  }
  const problem = jsonBodyProblem(body);
  if (problem) throw problem;
  return body;
}

export interface RestServerOptions {
  host: string;
  port: number;
  router: RestRouter;
  logger: Logger;
  maxRequestBytes: number;
  /**
   * Header, body and idle timeouts (CLOUDFORET_HEADERS_TIMEOUT_MS, CLOUDFORET_BODY_TIMEOUT_MS,
   * CLOUDFORET_IDLE_TIMEOUT_MS); read from the process environment when not given.
   */
  limits?: Partial<Pick<TransportLimits, "headersTimeoutMs" | "bodyTimeoutMs" | "idleTimeoutMs">>;
}

export interface RunningRestServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** HTTP/1.1 keep-alive sockets of the REST API stay open this long idle (capped by CLOUDFORET_IDLE_TIMEOUT_MS). */
const REST_KEEP_ALIVE_MS = 5_000;

/**
 * Serves the router on its own port with JSON in and out and the seed's `{"error": …}` bodies.
 * The listener is total: an unparsable request line, URL or header is a 400 `{"error": …}`, a
 * handler's surprise a 500, never a throw out of the listener; headers must arrive within the
 * headers timeout and the whole request within headers + body timeouts (408 after).
 */
export async function startRestServer(options: RestServerOptions): Promise<RunningRestServer> {
  const { router, logger } = options;
  const limits = { ...readTransportLimits(process.env), ...options.limits };
  const server = http.createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.headersTimeoutMs + limits.bodyTimeoutMs,
      // How often Node looks for requests past those deadlines.
      connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
    },
    (req, res) => {
      const started = performance.now();
      const method = req.method ?? "GET";
      let path = req.url ?? "/";
      const send = (status: number, body: unknown, contentType = "application/json") => {
        const payload = typeof body === "string" && contentType !== "application/json" ? body : JSON.stringify(body);
        res.writeHead(status, { "content-type": contentType, "content-length": Buffer.byteLength(payload) });
        res.end(payload);
        logger.debug({ method, path, status, ms: Math.round(performance.now() - started) }, "rest request");
      };
      const fail = (err: unknown) => {
        if (res.headersSent || res.destroyed) {
          res.destroy();
          return;
        }
        if (err instanceof PlatformError) return send(restStatusOf(err), restErrorBody(err));
        logger.error({ err, method, path }, "unexpected error in REST listener");
        send(500, { error: "internal error" });
      };
      try {
        // "//[" and the like: no URL parser takes them; the client's mistake, not a crash.
        const url = parseRequestTarget(req.url);
        if (url instanceof PlatformError) return fail(url);
        path = url.pathname;
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
        Promise.resolve()
          .then(() => route.handler(request))
          .then(
            (response) => {
              if (response.stream) return response.stream(res).then(() => void (res.writableEnded || res.end()), fail);
              if (response.text !== undefined) send(response.status, response.text, response.contentType ?? "text/plain");
              else if (response.status === 204) {
                res.writeHead(204);
                res.end();
              } else send(response.status, response.body ?? {});
            },
            (err: unknown) => {
              if (err instanceof PlatformError) return send(restStatusOf(err), restErrorBody(err));
              if (gone.signal.aborted) return logger.debug({ method, path }, "REST client went away");
              if (isConnectionError(err)) {
                logger.warn({ err }, "storage unavailable");
                return send(503, { error: "storage unavailable; retry later" });
              }
              logger.error({ err, method, path: url.pathname }, "unexpected error in REST handler");
              send(500, { error: "internal error" });
            },
          )
          .catch(fail);
      } catch (err) {
        // A throw of the routing itself (a path the router cannot decode): a 400 when it is URI
        // decoding, a 500 otherwise, and the listener goes on serving.
        fail(err instanceof URIError ? invalidParameter("the request path has malformed percent-encoding") : err);
      }
    },
  );
  server.keepAliveTimeout = Math.min(REST_KEEP_ALIVE_MS, limits.idleTimeoutMs);
  // Malformed request lines and headers, headers too large or too slow: a status and `{"error": …}`.
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Socket) =>
    answerClientError(err, socket, (error) => ({ contentType: "application/json", body: JSON.stringify(restErrorBody(error)) })),
  );
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  // After listening, an error of the listening socket (EMFILE on accept) is logged, not thrown.
  server.on("error", (err) => logger.warn({ err }, "REST listening socket error"));
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

/** The request target as a URL, or the 400 it deserves (none, or no URL parser takes it). */
function parseRequestTarget(target: string | undefined): URL | PlatformError {
  if (!target) return invalidParameter("the request has no target");
  try {
    return new URL(target, "http://localhost");
  } catch {
    return invalidParameter("the request target is not a valid URL");
  }
}
