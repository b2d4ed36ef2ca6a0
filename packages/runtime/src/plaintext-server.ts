import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import { invalidParameter, payloadTooLarge, timeout, type PlatformError } from "@cloudforet/errors";
import { defaultTransportLimits } from "./config";
import { rawHttpResponse } from "./http-endpoints";

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

export interface PlaintextOptions {
  /** Streams one HTTP/2 connection may have open at once; more are refused (REFUSED_STREAM). */
  maxConcurrentStreams?: number;
  /** Time a connection has to send its first bytes, and a request its whole header section. */
  headersTimeoutMs?: number;
  /** An HTTP/1.1 keep-alive socket, or an HTTP/2 session with no open stream, idle this long is closed. */
  idleTimeoutMs?: number;
  /** Largest header section (HTTP/1.1) and header list (HTTP/2), in bytes. */
  maxHeaderBytes?: number;
  /** HTTP/2 receive window of one stream: the most of a stream's body buffered before it is read. */
  streamWindowBytes?: number;
  /** The body of the answer to an HTTP/1.1 request that could not be parsed (default: `{"error": …}`). */
  rejectBody?(error: PlatformError): { contentType: string; body: string };
  /** Told about errors of the listening socket and of sessions (nothing is thrown). */
  onError?(err: unknown, where: string): void;
}

/** HTTP/1.1 and HTTP/2 header limit: Node's default for HTTP/1.1, the same for HTTP/2. */
export const DEFAULT_MAX_HEADER_BYTES = 16 * 1024;
/**
 * A stream's HTTP/2 receive window: large enough that bulk client streams are not throttled to a
 * window per round trip, small enough that 100 streams of one connection buffer at most 100 MiB.
 */
export const DEFAULT_STREAM_WINDOW_BYTES = 1 << 20;
/** nghttp2's own memory per HTTP/2 session (header tables, queued frames), in MB (Node's default). */
export const MAX_SESSION_MEMORY_MB = 10;

const http2Preface = Buffer.from("PRI * HTTP/2.0");

/**
 * One plaintext port for HTTP/1.1 and HTTP/2 with prior knowledge (h2c), as gRPC, gRPC-Web,
 * Connect, curl and browsers need: the first bytes of each connection decide which server gets it.
 *
 * Every connection is bounded: a socket that sends nothing is closed after `headersTimeoutMs`; an
 * HTTP/1.1 request whose headers do not arrive in that time gets 408; an unparsable one 400 (never
 * a crash); idle keep-alive sockets and HTTP/2 sessions without streams close after `idleTimeoutMs`;
 * an HTTP/2 connection has at most `maxConcurrentStreams` streams, each buffering at most
 * `streamWindowBytes` unread; a stream answered before its body was read is reset, so the rest of
 * the body is neither buffered nor waited for.
 */
export async function listenPlaintext(host: string, port: number, listener: RequestListener, options: PlaintextOptions = {}): Promise<PlaintextServer> {
  const headersTimeoutMs = options.headersTimeoutMs ?? defaultTransportLimits.headersTimeoutMs;
  const idleTimeoutMs = options.idleTimeoutMs ?? defaultTransportLimits.idleTimeoutMs;
  const maxHeaderBytes = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  const onError = options.onError ?? (() => {});
  const rejectBody = options.rejectBody ?? ((error: PlatformError) => ({ contentType: "application/json", body: JSON.stringify({ error: error.message }) }));

  // HTTP/1.1 keep-alive sockets are tracked here: http.Server only tracks connections it accepted itself.
  const h1Requests = new Map<net.Socket, number>();
  let closing = false;
  const endIfIdle = (socket: net.Socket) => {
    if (closing && (h1Requests.get(socket) ?? 0) === 0) socket.end();
  };
  const h1 = http.createServer(
    {
      maxHeaderSize: maxHeaderBytes,
      headersTimeout: headersTimeoutMs,
      // No whole-request deadline here: a client stream over HTTP/1.1 may legitimately last long.
      // Unary bodies have their own deadline in the RPC adapter (the body timeout).
      requestTimeout: 0,
      // How often Node looks for requests past headersTimeout.
      connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(headersTimeoutMs / 4))),
    },
    (req, res) => {
      const socket = req.socket;
      h1Requests.set(socket, (h1Requests.get(socket) ?? 0) + 1);
      if (closing) res.setHeader("connection", "close");
      res.once("close", () => {
        h1Requests.set(socket, (h1Requests.get(socket) ?? 1) - 1);
        endIfIdle(socket);
      });
      // A call answered before its body was read (an early error on a client stream, a refused
      // call) leaves the rest of the body unread, and the client may still be sending it: the
      // connection cannot carry another request, so the answer says "Connection: close" and Node
      // closes it after the answer.
      // (A request without a body, a GET, is complete as soon as its headers are: it keeps the connection.)
      const bodyless = req.headers["transfer-encoding"] === undefined && (req.headers["content-length"] ?? "0") === "0";
      const writeHead = res.writeHead;
      res.writeHead = function (this: http.ServerResponse, ...args: Parameters<typeof writeHead>) {
        if (!req.complete && !bodyless) res.shouldKeepAlive = false;
        return writeHead.apply(this, args);
      } as typeof writeHead;
      listener(req, res);
    },
  );
  h1.keepAliveTimeout = idleTimeoutMs;
  h1.on("clientError", (err: NodeJS.ErrnoException, socket: net.Socket) => answerClientError(err, socket, rejectBody));
  // http.Server starts watching its connections' header deadlines when it starts listening; this one
  // never listens itself (the sniffer hands it sockets), so it is told it does.
  h1.emit("listening");

  const h2 = http2.createServer(
    {
      maxSessionMemory: MAX_SESSION_MEMORY_MB,
      settings: {
        // Larger flow-control windows than HTTP/2's 64 KiB default, so bulk client streams (metric
        // ingest, BatchUpsert) are not throttled to a window per round trip; bounded per stream.
        initialWindowSize: options.streamWindowBytes ?? DEFAULT_STREAM_WINDOW_BYTES,
        maxConcurrentStreams: options.maxConcurrentStreams ?? defaultTransportLimits.maxConcurrentStreams,
        maxHeaderListSize: maxHeaderBytes,
      },
    },
    (req, res) => {
      resetWhenAnsweredEarly(req.stream);
      listener(req, res);
    },
  );
  h2.on("sessionError", (err) => onError(err, "http2 session"));
  const sockets = new Set<net.Socket>();
  const sessions = new Set<http2.Http2Session>();
  h2.on("session", (session) => {
    sessions.add(session);
    session.once("connect", () => session.setLocalWindowSize(16 << 20));
    session.once("close", () => sessions.delete(session));
    // Idle: no frame either way for idleTimeoutMs. A session with open streams (a quiet Watch)
    // is left alone; the timer re-arms on its next frame.
    let openStreams = 0;
    session.on("stream", (stream) => {
      openStreams++;
      stream.once("close", () => openStreams--);
    });
    session.setTimeout(idleTimeoutMs, () => {
      if (openStreams === 0) session.close();
    });
  });

  const tcp = net.createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    routeBySniffing(socket, h1, h2, () => h1Requests.set(socket, 0), headersTimeoutMs);
    socket.once("close", () => h1Requests.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once("error", reject);
    tcp.listen(port, host, () => {
      tcp.off("error", reject);
      resolve();
    });
  });
  // After listening, an error of the listening socket (EMFILE on accept) must not be thrown.
  tcp.on("error", (err) => onError(err, "listening socket"));
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
      h1.close(() => {}); // stops its connection checks (it never listened: the callback gets ERR_SERVER_NOT_RUNNING)
    },
  };
}

/**
 * An HTTP/2 stream whose answer is complete while its request body is still coming (an early
 * error, a refused call) is reset with NO_ERROR once the trailers are out (RFC 9113 §8.1), so the
 * rest of the body is neither buffered nor waited for.
 */
function resetWhenAnsweredEarly(stream: http2.ServerHttp2Stream): void {
  // The compatibility layer always asks for trailers; its own listener sends them first.
  stream.once("wantTrailers", () => {
    setImmediate(() => {
      if (!stream.destroyed && !stream.closed && stream.state?.remoteClose !== 1) stream.close(http2.constants.NGHTTP2_NO_ERROR);
    });
  });
}

/** The answer to an HTTP/1.1 request Node could not parse or that ran out of time. */
export function clientErrorAnswer(err: NodeJS.ErrnoException): { status: number; reason: string; error: PlatformError } {
  switch (err.code) {
    case "HPE_HEADER_OVERFLOW":
      return { status: 431, reason: "Request Header Fields Too Large", error: payloadTooLarge("the request headers are too large") };
    case "HPE_CHUNK_EXTENSIONS_OVERFLOW":
      return { status: 413, reason: "Payload Too Large", error: payloadTooLarge("the request's chunk extensions are too large") };
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return { status: 408, reason: "Request Timeout", error: timeout("the request did not arrive in time") };
    default:
      return { status: 400, reason: "Bad Request", error: invalidParameter("malformed HTTP request") };
  }
}

/**
 * Answers a request Node's parser refused (malformed request line, URL or header; headers too
 * large or too slow) with its status and a taxonomy body, then closes the connection; when an
 * answer is already on its way there, or the socket cannot be written, just closes it.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: net.Socket, body: (error: PlatformError) => { contentType: string; body: string }): void {
  const inFlight = (socket as net.Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (err.code === "ECONNRESET" || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const answer = clientErrorAnswer(err);
  const { contentType, body: text } = body(answer.error);
  socket.end(rawHttpResponse(answer.status, answer.reason, text, contentType));
  // A client that neither reads the answer nor closes is not waited for.
  setTimeout(() => socket.destroy(), 1000).unref();
}

function routeBySniffing(socket: net.Socket, h1: http.Server, h2: http2.Http2Server, onHttp1: () => void, firstBytesTimeoutMs: number): void {
  let head = Buffer.alloc(0);
  // A connection that never sends enough to tell its protocol is closed.
  const silent = setTimeout(() => socket.destroy(), firstBytesTimeoutMs);
  silent.unref();
  socket.once("close", () => clearTimeout(silent));
  const onData = (chunk: Buffer) => {
    head = Buffer.concat([head, chunk]);
    const decisive = Math.min(head.length, http2Preface.length);
    const looksLikeH2 = head.subarray(0, decisive).equals(http2Preface.subarray(0, decisive));
    if (looksLikeH2 && head.length < http2Preface.length) return; // need more bytes to tell
    clearTimeout(silent);
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
