import type * as http2 from "node:http2";
import { Http2SessionManager, type Http2SessionOptions } from "@connectrpc/connect-node";
import type { Interceptor } from "@connectrpc/connect";
import type { Logger } from "pino";

/** What connect-node's transports take as `sessionManager` (NodeHttp2ClientSessionManager). */
interface SessionManager {
  authority: string;
  request(method: string, path: string, headers: http2.OutgoingHttpHeaders, options: Omit<http2.ClientSessionRequestOptions, "signal">): Promise<http2.ClientHttp2Stream>;
  notifyResponseByteRead(stream: http2.ClientHttp2Stream): void;
}

/** Node errno codes of a session (not a single stream) that is broken or closing. */
const brokenSessionCodes = new Set(["ERR_HTTP2_SESSION_ERROR", "ERR_HTTP2_GOAWAY_SESSION", "ERR_HTTP2_INVALID_SESSION"]);
/**
 * HTTP/2 error codes with which a peer refuses streams of a session it will not serve any more:
 * a server over its session memory answers every new stream ENHANCE_YOUR_CALM, forever.
 */
const refusingSession = /ENHANCE_YOUR_CALM|REFUSED_STREAM/;

/**
 * Whether the peer refused the call's stream (ENHANCE_YOUR_CALM, REFUSED_STREAM): it never reached a
 * handler, and the session it was refused on is replaced, so it says nothing about the upstream's
 * health and must not count toward its circuit breaker.
 */
export function isRefusedStream(err: unknown): boolean {
  for (let e = err, depth = 0; e !== null && typeof e === "object" && depth < 8; depth++) {
    const { message } = e as { message?: unknown };
    if (typeof message === "string" && refusingSession.test(message)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** Whether a failed call says its HTTP/2 session is unusable, so the next call needs a new one. */
export function isBrokenSession(err: unknown): boolean {
  for (let e = err, depth = 0; e !== null && typeof e === "object" && depth < 8; depth++) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code === "string" && brokenSessionCodes.has(code)) return true;
    if (typeof message === "string" && refusingSession.test(message)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * An HTTP/2 session manager that a client can replace. connect-node's Http2SessionManager keeps
 * a session as long as the socket is up, even when the peer refuses every stream on it (one
 * tenant's oversized upload can leave a server session in that state); every later call of every
 * tenant then fails on it. After such a failure, new calls go to a fresh manager (a new
 * connection); the old one is closed once its running streams are done.
 */
export class ReplaceableSession implements SessionManager {
  private current: Http2SessionManager;
  private generation = 0;

  constructor(
    private readonly url: string,
    private readonly logger: Logger,
    private readonly upstream: string,
    private readonly pingOptions?: Http2SessionOptions,
    private readonly nodeOptions?: http2.ClientSessionOptions,
  ) {
    this.current = this.open();
  }

  get authority(): string {
    return this.current.authority;
  }

  request(method: string, path: string, headers: http2.OutgoingHttpHeaders, options: Omit<http2.ClientSessionRequestOptions, "signal">): Promise<http2.ClientHttp2Stream> {
    return this.current.request(method, path, headers, options);
  }

  notifyResponseByteRead(stream: http2.ClientHttp2Stream): void {
    // The stream may belong to a replaced manager; notifying another one is harmless (it only
    // postpones its keep-alive ping), and the replaced one is being closed anyway.
    this.current.notifyResponseByteRead(stream);
  }

  /**
   * Installed innermost: a call that fails with a broken session replaces the manager it ran on
   * (once: calls failing together on one old session do not replace the new one again).
   */
  readonly interceptor: Interceptor = (next) => async (req) => {
    const generation = this.generation;
    try {
      return await next(req);
    } catch (err) {
      if (generation === this.generation && isBrokenSession(err)) this.replace(err);
      throw err;
    }
  };

  private replace(reason: unknown): void {
    const old = this.current;
    this.generation += 1;
    this.current = this.open();
    this.logger.warn({ upstream: this.upstream, err: reason }, "HTTP/2 session refused a call; new calls use a new connection");
    // Streams still running on the old session finish there; the connection closes when they are done.
    const closeWhenIdle = setInterval(() => {
      const state = old.state();
      if (state === "open" || state === "connecting" || state === "verifying") return;
      clearInterval(closeWhenIdle);
      old.abort();
    }, 1000);
    closeWhenIdle.unref();
  }

  private open(): Http2SessionManager {
    return new Http2SessionManager(this.url, this.pingOptions, this.nodeOptions);
  }
}
