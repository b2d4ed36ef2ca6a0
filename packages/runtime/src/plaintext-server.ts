import http from "node:http";
import http2 from "node:http2";
import net from "node:net";

export type RequestListener = (
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
) => void;

export interface PlaintextServer {
  /** The bound address (port 0 resolves to the real port). */
  address: { host: string; port: number };
  /** Stops accepting, lets in-flight requests finish (up to `graceMs`), then closes every connection. */
  close(graceMs: number): Promise<void>;
}

const http2Preface = Buffer.from("PRI * HTTP/2.0");

/**
 * One plaintext port for HTTP/1.1 and HTTP/2 with prior knowledge (h2c), as gRPC, gRPC-Web,
 * Connect, curl and browsers need: the first bytes of each connection decide which server gets it.
 */
export async function listenPlaintext(host: string, port: number, listener: RequestListener): Promise<PlaintextServer> {
  // HTTP/1.1 keep-alive sockets are tracked here: http.Server only tracks connections it accepted itself.
  const h1Requests = new Map<net.Socket, number>();
  let closing = false;
  const endIfIdle = (socket: net.Socket) => {
    if (closing && (h1Requests.get(socket) ?? 0) === 0) socket.end();
  };
  const h1 = http.createServer((req, res) => {
    const socket = req.socket;
    h1Requests.set(socket, (h1Requests.get(socket) ?? 0) + 1);
    if (closing) res.setHeader("connection", "close");
    res.once("close", () => {
      h1Requests.set(socket, (h1Requests.get(socket) ?? 1) - 1);
      endIfIdle(socket);
    });
    // A call answered before its body was read (an early error on a client stream) leaves the rest
    // of the body unread, and the client may still be sending it: the connection cannot carry
    // another request, so the answer says "Connection: close" and Node closes it after the answer.
    const writeHead = res.writeHead;
    res.writeHead = function (this: http.ServerResponse, ...args: Parameters<typeof writeHead>) {
      if (!req.complete) res.shouldKeepAlive = false;
      return writeHead.apply(this, args);
    } as typeof writeHead;
    listener(req, res);
  });
  h1.keepAliveTimeout = 65_000;
  // Larger flow-control windows than HTTP/2's 64 KiB default, so bulk client streams (metric
  // ingest, BatchUpsert) are not throttled to a window per round trip.
  const h2 = http2.createServer({ settings: { initialWindowSize: 4 << 20 } }, listener);
  const sockets = new Set<net.Socket>();
  const sessions = new Set<http2.Http2Session>();
  h2.on("session", (session) => {
    sessions.add(session);
    session.once("connect", () => session.setLocalWindowSize(16 << 20));
    session.once("close", () => sessions.delete(session));
  });

  const tcp = net.createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    routeBySniffing(socket, h1, h2, () => h1Requests.set(socket, 0));
    socket.once("close", () => h1Requests.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once("error", reject);
    tcp.listen(port, host, () => resolve());
  });
  const bound = tcp.address() as net.AddressInfo;

  return {
    address: { host, port: bound.port },
    async close(graceMs) {
      closing = true;
      const closed = new Promise<void>((resolve) => tcp.close(() => resolve()));
      for (const session of sessions) session.close(); // GOAWAY: finish open streams, accept no new ones
      for (const socket of h1Requests.keys()) endIfIdle(socket);
      const deadline = Date.now() + graceMs;
      while ((sockets.size > 0 || sessions.size > 0) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
      }
      for (const session of sessions) session.destroy();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

function routeBySniffing(socket: net.Socket, h1: http.Server, h2: http2.Http2Server, onHttp1: () => void): void {
  let head = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    head = Buffer.concat([head, chunk]);
    const decisive = Math.min(head.length, http2Preface.length);
    const looksLikeH2 = head.subarray(0, decisive).equals(http2Preface.subarray(0, decisive));
    if (looksLikeH2 && head.length < http2Preface.length) return; // need more bytes to tell
    socket.off("data", onData);
    socket.pause();
    socket.unshift(head);
    if (looksLikeH2) {
      // http2 drains the unshifted bytes into its native session and reads on from the handle.
      h2.emit("connection", socket);
    } else {
      onHttp1();
      h1.emit("connection", socket);
      socket.resume();
    }
  };
  socket.on("data", onData);
  socket.on("error", () => socket.destroy());
}
