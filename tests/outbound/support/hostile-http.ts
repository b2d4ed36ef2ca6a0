import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { gzipSync } from "node:zlib";

export const GIB = 1024 * 1024 * 1024;

/**
 * An HTTP server that answers too much, forever, or compressed far beyond its size. Every body is
 * produced lazily, chunk by chunk as the client reads it (respecting backpressure), so the test
 * process never holds more than a chunk of it; the server counts what it sent and which
 * connections are open.
 *
 * - `/huge`: 200, 1 GiB chunked (no length announced);
 * - `/huge-error`: 500, 1 GiB chunked;
 * - `/bomb`: 200, `content-encoding: gzip`, about 512 KiB of gzip (under a 1 MiB cap) inflating to 512 MiB;
 * - `/endless`: 200, chunked, 1 KiB every 20 ms until the client goes away;
 * - anything else: 200 "ok".
 */
export interface HostileHttpServer {
  url: string;
  /** Body bytes written to clients so far. */
  sentBytes(): number;
  /** Connections open right now. */
  openConnections(): number;
  close(): Promise<void>;
}

const CHUNK = Buffer.alloc(64 * 1024, 120);
/** One gzip member of 1 MiB of zeros (about 1 KiB); members in a row are one valid gzip stream. */
const BOMB_MEMBER = gzipSync(Buffer.alloc(1024 * 1024));

export async function startHostileHttpServer(host = "127.0.0.1"): Promise<HostileHttpServer> {
  let sent = 0;
  const sockets = new Set<Socket>();
  const stream = (res: ServerResponse, chunk: Buffer, times: number) => {
    let left = times;
    const pump = () => {
      while (left > 0 && !res.destroyed) {
        left -= 1;
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once("drain", pump);
      }
      if (left === 0 && !res.destroyed) res.end();
    };
    pump();
  };
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    req.resume();
    if (path === "/huge") return void (res.writeHead(200, { "content-type": "text/plain" }), stream(res, CHUNK, GIB / CHUNK.length));
    if (path === "/huge-error") return void (res.writeHead(500, { "content-type": "text/plain" }), stream(res, CHUNK, GIB / CHUNK.length));
    if (path === "/bomb") return void (res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" }), stream(res, BOMB_MEMBER, 512));
    if (path === "/endless") {
      res.writeHead(200, { "content-type": "text/plain" });
      const timer = setInterval(() => {
        if (res.destroyed) return clearInterval(timer);
        sent += 1024;
        res.write(Buffer.alloc(1024, 121));
      }, 20);
      res.on("close", () => clearInterval(timer));
      return;
    }
    res.end("ok");
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    sentBytes: () => sent,
    openConnections: () => sockets.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Resident set size now, in MB, after a GC when the process exposes it. */
export function rssMb(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().rss / (1024 * 1024);
}
