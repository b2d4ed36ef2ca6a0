// Over 300 lines on purpose: the one place a request body is counted and timed as it arrives, for the
// three protocols at once; splitting it would spread the byte accounting over several files.
import { randomUUID } from "node:crypto";
import {
  Code,
  ConnectError,
  createConnectRouter,
  createContextKey,
  type ConnectRouter,
  type ConnectRouterOptions,
  type ContextValues,
} from "@connectrpc/connect";
import { compressionBrotli, compressionGzip, universalRequestFromNodeRequest, universalResponseToNodeResponse } from "@connectrpc/connect-node";
import type { UniversalHandler, UniversalServerResponse } from "@connectrpc/connect/protocol";
import { errorFromJsonBytes, errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import { findTrailerError, setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { ErrorCode, PlatformError, invalidParameter, payloadTooLarge, serviceUnavailable, timeout, toConnectError } from "@cloudforet/errors";
import { ErrorInfoSchema } from "@cloudforet/proto/google/rpc/error_details_pb";
import type { Logger } from "pino";
import { toTaxonomyError } from "./error-mapping";
import { sendTaxonomyError, type HttpRequest, type HttpResponse } from "./http-endpoints";

/** What the transport learned about one call, for the answer's HTTP status (Connect unary). */
export interface TransportState {
  /** The HTTP status the answer must have instead of Connect's (413 too large, 408 body timeout). */
  status?: number;
  /** A smaller body limit than the server's for this call (set by the request gate: anonymous calls). */
  maxBytes?: number;
}

/** The call's transport state (set by the adapter on every call it serves). */
export const transportStateKey = createContextKey<TransportState | undefined>(undefined, { description: "transport state of the call" });

export interface RpcAdapterOptions extends ConnectRouterOptions {
  routes(router: ConnectRouter): void;
  /** The call's context values (peer address); the adapter adds its transport state. */
  contextValues(req: HttpRequest): ContextValues;
  /** ErrorInfo.domain of the errors the transport raises. */
  domain: string;
  logger: Logger;
  /** Largest request body: a unary call's whole body, every enveloped message. */
  maxRequestBytes: number;
  /** Time a unary (or server-streaming) call's request body has to arrive in full. */
  bodyTimeoutMs: number;
  /**
   * Bytes of request bodies still arriving (a unary body until it is complete, a stream's message
   * until it is) the whole server may hold at once; beyond, calls get ERROR_SERVICE_UNAVAILABLE.
   * Default: 64 × maxRequestBytes.
   */
  maxBufferedBodyBytes?: number;
}

/**
 * Responses smaller than this go uncompressed even to a client that accepts gzip (Connect's default
 * is 1 KiB). Compressing a page of a few kilobytes saves little on any network yet cost a service
 * a tenth of its CPU per read (bench authenticated-read); lists large enough to matter are still
 * compressed.
 */
export const RESPONSE_COMPRESS_MIN_BYTES = 32 * 1024;

/** Serves a request when its path is an RPC's; false (nothing done) otherwise. */
export interface RpcAdapter {
  (req: HttpRequest, res: HttpResponse): boolean;
  /** True when the request target (path, no query) is exactly one of the served procedures. */
  serves(target: string | undefined): boolean;
}

interface Route {
  handler: UniversalHandler;
  /** Unary and server-streaming calls send one message: their body must arrive within the body timeout. */
  singleRequest: boolean;
  unary: boolean;
}

/**
 * connectNodeAdapter (@connectrpc/connect-node), with what a hostile network needs around it:
 * - a request Connect cannot make a URL of (a bad Host) is 400 ERROR_INVALID_PARAMETER, not a throw;
 * - the body is counted as it arrives: a unary body over the limit (chunked, no content-length) and
 *   an enveloped message announcing more than the limit are ERROR_PAYLOAD_TOO_LARGE with ErrorInfo
 *   (413 in the Connect protocol), before more is buffered;
 * - a unary or server-streaming call's body must arrive within `bodyTimeoutMs`; client and bidi
 *   streams, which may legitimately pause between messages, only must not stall inside a message
 *   for that long;
 * - bodies still arriving share a budget per server (maxBufferedBodyBytes): past it, a call is
 *   ERROR_SERVICE_UNAVAILABLE instead of more memory;
 * - errors Connect raises before the interceptors run (unparsable bodies, decompression limits) get
 *   their ErrorInfo too, in the Connect unary and the gRPC protocols.
 */
export function createRpcAdapter(options: RpcAdapterOptions): RpcAdapter {
  const { domain, logger, maxRequestBytes, bodyTimeoutMs, maxBufferedBodyBytes, routes: register, contextValues, ...routerOptions } = options;
  const budget = new BodyBudget(maxBufferedBodyBytes ?? 64 * maxRequestBytes);
  const router = createConnectRouter({ acceptCompression: [compressionGzip, compressionBrotli], compressMinBytes: RESPONSE_COMPRESS_MIN_BYTES, ...routerOptions });
  register(router);
  const routes = new Map<string, Route>();
  for (const handler of router.handlers) {
    const kind = handler.method.methodKind;
    routes.set(handler.requestPath, { handler, singleRequest: kind === "unary" || kind === "server_streaming", unary: kind === "unary" });
  }

  const adapter = (req: HttpRequest, res: HttpResponse): boolean => {
    const route = routes.get((req.url ?? "").split("?", 2)[0]);
    if (!route) return false;
    const state: TransportState = {};
    let requestId: string | undefined;
    const requestIdOf = () => (requestId ??= offeredRequestId(req) ?? randomUUID());
    const values = contextValues(req);
    values.set(transportStateKey, state);
    let uReq: ReturnType<typeof universalRequestFromNodeRequest>;
    try {
      uReq = universalRequestFromNodeRequest(req, res, undefined, values);
    } catch {
      // No (or an unusable) Host / :authority: Connect cannot build the request URL.
      sendTaxonomyError(res, invalidParameter("the request has no usable Host header"), domain);
      return true;
    }
    const contentType = (req.headers["content-type"] ?? "").toLowerCase();
    const enveloped = /^application\/(grpc|grpc-web|connect\+)/.test(contentType) && !contentType.startsWith("application/grpc-web-text");
    const deadline = route.singleRequest && req.method !== "GET" ? new BodyDeadline(bodyTimeoutMs, req) : undefined;
    const held = new HeldBytes(budget);
    res.once("close", () => {
      deadline?.cancel();
      held.releaseAll();
    });
    if (uReq.body !== undefined && typeof uReq.body === "object" && uReq.body !== null && Symbol.asyncIterator in uReq.body) {
      uReq = {
        ...uReq,
        body: guardBody(uReq.body as AsyncIterable<Uint8Array>, {
          limit: maxRequestBytes,
          unary: route.unary,
          enveloped,
          deadline,
          stallTimeoutMs: bodyTimeoutMs,
          domain,
          state,
          requestId: requestIdOf,
          held,
        }),
      };
    }
    route.handler(uReq)
      .then((uRes) => finishResponse(uRes, state, domain, requestIdOf, logger))
      .then((uRes) => universalResponseToNodeResponse(uRes, res))
      .catch((reason: unknown) => {
        const code = ConnectError.from(reason).code;
        if (code !== Code.Aborted && code !== Code.Canceled) {
          logger.warn({ err: reason, procedure: route.handler.requestPath }, "rpc transport failed");
        }
        if (!res.headersSent && !res.writableEnded) sendTaxonomyError(res, new PlatformError(ErrorCode.UNKNOWN, "internal error"), domain);
        else if (!res.writableEnded) res.destroy();
      });
    return true;
  };
  return Object.assign(adapter, { serves: (target: string | undefined) => target !== undefined && routes.has(target) });
}

/**
 * The body timeout of one call: when it passes while the adapter waits for body bytes, the wait
 * fails (the call answers ERROR_TIMEOUT); when nothing waits for them, the request is destroyed.
 */
class BodyDeadline {
  private waiting = 0;
  private readonly timer: NodeJS.Timeout;
  private reject!: (err: unknown) => void;
  /** Rejects with BodyDeadline.expiredError when the timeout passes. */
  readonly expired = new Promise<never>((_, reject) => (this.reject = reject));
  static readonly expiredError = new Error("body timeout");

  constructor(ms: number, req: HttpRequest) {
    this.expired.catch(() => {}); // no unhandled rejection when nothing races it
    this.timer = setTimeout(() => {
      this.reject(BodyDeadline.expiredError);
      if (this.waiting === 0) req.destroy();
    }, ms);
    this.timer.unref();
  }

  /** The next body bytes, or the expiry. */
  async next<T>(read: Promise<T>): Promise<T> {
    this.waiting++;
    try {
      return await Promise.race([read, this.expired]);
    } finally {
      this.waiting--;
    }
  }

  /** The body arrived, or the answer is done: no more timeout. */
  cancel(): void {
    clearTimeout(this.timer);
  }
}

interface BodyGuard {
  /** Largest enveloped message, and a unary call's whole body (the request gate may lower it: state.maxBytes). */
  limit: number;
  /** A unary call's whole body is limited too (chunked bodies announce no length). */
  unary: boolean;
  enveloped: boolean;
  deadline?: BodyDeadline;
  /** A stream's message, once begun, must not wait longer than this for its next bytes. */
  stallTimeoutMs: number;
  domain: string;
  state: TransportState;
  requestId(): string;
  /** This call's share of the server's body budget. */
  held: HeldBytes;
}

/**
 * The request body as Connect reads it, counted on the way: over a limit or past the deadline the
 * read fails with a taxonomy error. On failure the Node request is not destroyed, so the error can
 * still be answered; the listener then closes the HTTP/1.1 connection or resets the HTTP/2 stream.
 */
async function* guardBody(source: AsyncIterable<Uint8Array>, guard: BodyGuard): AsyncGenerator<Uint8Array> {
  const it = source[Symbol.asyncIterator]();
  const deadline = guard.deadline;
  const scanner = guard.enveloped ? new EnvelopeScanner() : undefined;
  let total = 0;
  for (;;) {
    let next: IteratorResult<Uint8Array>;
    if (deadline) {
      try {
        next = await deadline.next(it.next());
      } catch (err) {
        if (err !== BodyDeadline.expiredError) throw err;
        guard.state.status = 408;
        throw toConnectError(timeout("the request body did not arrive within the body timeout"), guard.domain, guard.requestId());
      }
    } else if (scanner?.midMessage()) {
      // Streams may pause between messages (a quiet bidi call), not inside one.
      next = await withStallTimeout(it.next(), guard);
    } else {
      next = await it.next();
    }
    if (next.done) {
      deadline?.cancel();
      guard.held.releaseAll();
      return;
    }
    const chunk = next.value;
    // (A stream whose messages cannot be followed, gRPC-Web text, is left to its per-message limit.)
    if ((guard.unary || scanner) && !guard.held.take(chunk.byteLength)) {
      throw toConnectError(serviceUnavailable("The server is receiving too many request bodies at once; retry later"), guard.domain, guard.requestId());
    }
    const limit = guard.state.maxBytes ?? guard.limit;
    total += chunk.byteLength;
    // An enveloped unary body is one message and its 5-byte header.
    if (guard.unary && total > limit + (scanner ? 5 : 0)) throw tooLarge(guard, limit, `request body exceeds the limit of ${limit} bytes`);
    const announced = scanner?.scan(chunk, limit);
    if (announced !== undefined) throw tooLarge(guard, limit, `request message of ${announced} bytes exceeds the limit of ${limit} bytes`);
    // A stream's complete messages are Connect's to hold now; only a partial one counts.
    if (scanner && !guard.unary && !scanner.midMessage()) guard.held.releaseAll();
    yield chunk;
  }
}

async function withStallTimeout<T>(read: Promise<T>, guard: BodyGuard): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(toConnectError(timeout("a request message stopped arriving"), guard.domain, guard.requestId())), guard.stallTimeoutMs);
  });
  try {
    return await Promise.race([read, stalled]);
  } finally {
    clearTimeout(timer);
  }
}

function tooLarge(guard: BodyGuard, limit: number, message: string): ConnectError {
  guard.state.status = 413;
  return toConnectError(payloadTooLarge(message, { limit }), guard.domain, guard.requestId());
}

/** Bytes of request bodies still arriving that one server holds. */
class BodyBudget {
  private used = 0;
  constructor(private readonly max: number) {}
  take(bytes: number): boolean {
    if (this.used + bytes > this.max) return false;
    this.used += bytes;
    return true;
  }
  release(bytes: number): void {
    this.used -= bytes;
  }
}

/** One call's bytes in the budget, given back when its body (or message) is complete or the call ends. */
class HeldBytes {
  private bytes = 0;
  constructor(private readonly budget: BodyBudget) {}
  take(bytes: number): boolean {
    if (!this.budget.take(bytes)) return false;
    this.bytes += bytes;
    return true;
  }
  releaseAll(): void {
    this.budget.release(this.bytes);
    this.bytes = 0;
  }
}

/** Follows the 5-byte envelope headers (flags, big-endian length) of a gRPC / gRPC-Web / Connect stream body. */
class EnvelopeScanner {
  private header = Buffer.alloc(5);
  private headerFill = 0;
  private payloadLeft = 0;

  /** True between a message's first byte and its last. */
  midMessage(): boolean {
    return this.headerFill > 0 || this.payloadLeft > 0;
  }

  /** The announced length of the first message over `limit` in this chunk, else undefined. */
  scan(chunk: Uint8Array, limit: number): number | undefined {
    let at = 0;
    while (at < chunk.byteLength) {
      if (this.payloadLeft > 0) {
        const skip = Math.min(this.payloadLeft, chunk.byteLength - at);
        this.payloadLeft -= skip;
        at += skip;
        continue;
      }
      const take = Math.min(5 - this.headerFill, chunk.byteLength - at);
      this.header.set(chunk.subarray(at, at + take), this.headerFill);
      this.headerFill += take;
      at += take;
      if (this.headerFill === 5) {
        const length = this.header.readUInt32BE(1);
        if (length > limit) return length;
        this.payloadLeft = length;
        this.headerFill = 0;
      }
    }
    return undefined;
  }
}

/**
 * Gives an error answer its ErrorInfo when Connect raised the error itself, before any interceptor
 * (Connect unary: the JSON body; gRPC: the trailers), and the Connect unary answer the HTTP status
 * the transport chose (413 too large, 408 body timeout).
 */
async function finishResponse(
  uRes: UniversalServerResponse,
  state: TransportState,
  domain: string,
  requestId: () => string,
  logger: Logger,
): Promise<UniversalServerResponse> {
  const contentType = (uRes.header?.get("content-type") ?? "").toLowerCase();
  if (/^application\/(json|proto)\b/.test(contentType) && uRes.status !== 200 && uRes.body !== undefined && !uRes.header?.get("content-encoding")) {
    const chunks: Uint8Array[] = [];
    for await (const chunk of uRes.body) chunks.push(chunk);
    let bytes: Uint8Array = Buffer.concat(chunks);
    let status = uRes.status;
    const err = errorFromJsonBytes(bytes, undefined, notAnError);
    if (err !== notAnError) {
      const mapped = err.findDetails(ErrorInfoSchema).length > 0 ? err : toTaxonomyError(err, domain, requestId(), logger);
      if (mapped !== err) bytes = errorToJsonBytes(mapped, {});
      if (reasonOf(mapped) === ErrorCode.PAYLOAD_TOO_LARGE) status = 413;
    }
    if (state.status !== undefined && (status === 429 || status === 504 || status === 413)) status = state.status;
    uRes.header?.set("content-length", String(bytes.byteLength));
    return { ...uRes, status, body: single(bytes) };
  }
  if (/^application\/grpc(\+|$|;)/.test(contentType) && uRes.trailer !== undefined && uRes.body !== undefined) {
    const trailer = uRes.trailer;
    const body = uRes.body;
    return {
      ...uRes,
      body: (async function* () {
        yield* body;
        const err = findTrailerError(trailer);
        if (err && err.findDetails(ErrorInfoSchema).length === 0) setTrailerStatus(trailer, toTaxonomyError(err, domain, requestId(), logger));
      })(),
    };
  }
  return uRes;
}

const validRequestId = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's x-request-id when it is sane (as the observability interceptor takes it). */
function offeredRequestId(req: HttpRequest): string | undefined {
  const offered = req.headers["x-request-id"];
  return typeof offered === "string" && validRequestId.test(offered) ? offered : undefined;
}

/** errorFromJsonBytes' answer for a body that is no Connect error (left as it is). */
const notAnError = new ConnectError("not a Connect error body", Code.Unknown);

function reasonOf(err: ConnectError): string | undefined {
  return err.findDetails(ErrorInfoSchema)[0]?.reason;
}

async function* single(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}
