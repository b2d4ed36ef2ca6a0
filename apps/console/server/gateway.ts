// The console's gateway: one plain Node HTTP server that serves the built console (dist/) and
// forwards every `/<package>.<Service>/<Method>` call (Connect, gRPC-Web; unary and streaming) to the
// service that owns the package, so the browser talks to one origin and needs no CORS.
// Node built-ins only: `npm start` and the e2e tests import it as TypeScript through tsx/vitest.
import { createReadStream, existsSync, statSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { createGzip } from "node:zlib";
import { serviceForPath } from "./routes";

export interface ConsoleGatewayOptions {
  /** 0 picks a free port. */
  port: number;
  host?: string;
  /** Base URL of each service by name ("cloud-service" → "http://127.0.0.1:50053"). */
  services: Record<string, string>;
  /** The `vite build` output (apps/console/dist). */
  distDir: string;
}

export interface ConsoleGateway {
  /** http://host:port, with 127.0.0.1 for a wildcard host. */
  url: string;
  port: number;
  close(): Promise<void>;
}

const MIME: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".woff2": "font/woff2",
};
const COMPRESSIBLE = new Set([".html", ".js", ".css", ".svg", ".json"]);
// Hop-by-hop headers never cross a proxy (RFC 9110 §7.6.1).
const HOP_BY_HOP = ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer"];

export async function startConsoleGateway(options: ConsoleGatewayOptions): Promise<ConsoleGateway> {
  const distDir = path.resolve(options.distDir);
  const server = http.createServer((req, res) => {
    const pathname = safePathname(req.url);
    if (pathname === undefined) return plain(res, 400, "bad request path");
    const service = serviceForPath(pathname);
    if (service) return proxy(req, res, service, options.services[service]);
    // /health/ready and /health/live too: the image's HEALTHCHECK and probes ask every service the same way.
    if (pathname === "/health" || pathname === "/health/ready" || pathname === "/health/live") return plain(res, 200, "ok");
    if (req.method !== "GET" && req.method !== "HEAD") return plain(res, 405, "method not allowed");
    serveStatic(req, res, distDir, pathname);
  });
  server.on("clientError", (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = !options.host || options.host === "0.0.0.0" || options.host === "::" ? "127.0.0.1" : options.host;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function safePathname(url: string | undefined): string | undefined {
  try {
    return new URL(url ?? "/", "http://gateway").pathname;
  } catch {
    return undefined;
  }
}

function plain(res: http.ServerResponse, status: number, text: string): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8" }).end(text);
}

/** Streams the request to the service and its answer back, unbuffered (server streams stay live). */
function proxy(req: http.IncomingMessage, res: http.ServerResponse, service: string, base: string | undefined): void {
  if (!base) return plain(res, 503, `the console gateway has no address for the ${service} service`);
  const target = new URL(req.url ?? "/", base);
  const headers: http.OutgoingHttpHeaders = { ...req.headers, host: target.host };
  for (const name of HOP_BY_HOP) delete headers[name];
  const client = req.socket.remoteAddress;
  if (client) headers["x-forwarded-for"] = req.headers["x-forwarded-for"] ? `${req.headers["x-forwarded-for"]}, ${client}` : client;
  const upstream = http.request(target, { method: req.method, headers }, (answer) => {
    const out: http.OutgoingHttpHeaders = { ...answer.headers };
    for (const name of HOP_BY_HOP) delete out[name];
    res.writeHead(answer.statusCode ?? 502, out);
    res.flushHeaders();
    answer.pipe(res);
    answer.on("error", () => res.destroy());
  });
  upstream.on("error", () => {
    if (res.headersSent) return res.destroy();
    // The Connect protocol's error body, so the console shows "service unavailable" like any other failure.
    res
      .writeHead(503, { "content-type": "application/json" })
      .end(JSON.stringify({ code: "unavailable", message: `the ${service} service does not answer (${base})` }));
  });
  // The browser went away (a closed Watch, a left page): stop the upstream call too.
  res.on("close", () => {
    if (!res.writableFinished) upstream.destroy();
  });
  req.pipe(upstream);
}

function serveStatic(req: http.IncomingMessage, res: http.ServerResponse, distDir: string, pathname: string): void {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return plain(res, 400, "bad request path");
  }
  let file = path.join(distDir, decoded);
  if (!file.startsWith(distDir + path.sep) && file !== distDir) return plain(res, 404, "not found");
  // Client-side routes (/cloud-services?…) get index.html; a missing asset is a real 404.
  if (!existsSync(file) || !statSync(file).isFile()) {
    if (pathname.startsWith("/assets/")) return plain(res, 404, "not found");
    file = path.join(distDir, "index.html");
    if (!existsSync(file)) return plain(res, 503, `the console is not built: run \`pnpm --filter @cloudforet/console build\` (no ${file})`);
  }
  const ext = path.extname(file);
  const headers: http.OutgoingHttpHeaders = {
    "content-type": MIME[ext] ?? "application/octet-stream",
    // Hashed asset names never change; index.html must always be revalidated.
    "cache-control": pathname.startsWith("/assets/") ? "public, max-age=31536000, immutable" : "no-cache",
    "x-content-type-options": "nosniff",
  };
  const gzip = COMPRESSIBLE.has(ext) && /\bgzip\b/.test(String(req.headers["accept-encoding"] ?? ""));
  if (gzip) {
    headers["content-encoding"] = "gzip";
    headers.vary = "accept-encoding";
  }
  res.writeHead(200, headers);
  if (req.method === "HEAD") return void res.end();
  const stream = createReadStream(file);
  stream.on("error", () => res.destroy());
  (gzip ? stream.pipe(createGzip()) : stream).pipe(res);
}
