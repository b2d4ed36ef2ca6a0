import type { IncomingMessage } from "node:http";
import type { Readable, Transform } from "node:stream";
import { createBrotliDecompress, createGunzip, createInflate } from "node:zlib";
import { OutboundError } from "./outbound-error";

export const tooLarge = (max: number, host: string) => new OutboundError("too_large", `the response of ${host} is too large (more than ${max} bytes)`);

/** The decoder of a Content-Encoding we inflate, undefined for identity (or none). */
function decoderFor(encoding: string | undefined, host: string): Transform | undefined {
  const name = (encoding ?? "").trim().toLowerCase();
  if (name === "" || name === "identity") return undefined;
  if (name === "gzip" || name === "x-gzip") return createGunzip();
  if (name === "deflate") return createInflate();
  if (name === "br") return createBrotliDecompress();
  // Stacked or unknown encodings: we cannot tell what the bytes would grow to, so we take none.
  throw new OutboundError("malformed", `the response of ${host} uses an unsupported content-encoding`);
}

/**
 * Reads a response body as a stream, never more than `max` bytes: the wire bytes and, when the peer
 * compressed it (though we asked for identity), the inflated bytes are both counted, so a gzip bomb
 * stops at the cap after inflating at most one zlib chunk past it. `signal` (the exchange's deadline)
 * ends an endless body too. On any of these the connection is destroyed at once.
 */
export function readCappedBody(response: IncomingMessage, max: number, host: string, signal: AbortSignal): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let decoder: Transform | undefined;
    let settled = false;
    const onAbort = () => fail(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener("abort", onAbort);
      // Rejected before destroying: the destroy emits errors of its own, which must not win.
      reject(err);
      response.destroy();
      decoder?.destroy();
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    const declared = Number(response.headers["content-length"]);
    if (Number.isFinite(declared) && declared > max) return fail(tooLarge(max, host));
    try {
      decoder = decoderFor(response.headers["content-encoding"], host);
    } catch (err) {
      return fail(err as Error);
    }
    let wire = 0;
    response.on("data", (chunk: Buffer) => {
      wire += chunk.length;
      if (wire > max) fail(tooLarge(max, host));
    });
    response.on("error", fail);
    response.on("aborted", () => fail(new Error("aborted")));
    const body: Readable = decoder ? response.pipe(decoder) : response;
    const chunks: Buffer[] = [];
    let size = 0;
    if (decoder) {
      body.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > max) return fail(tooLarge(max, host));
        chunks.push(chunk);
      });
      body.on("error", () => fail(new OutboundError("malformed", `the response of ${host} could not be decoded`)));
    } else {
      response.on("data", (chunk: Buffer) => {
        if (!settled) chunks.push(chunk);
      });
    }
    body.on("end", () => {
      if (settled) return;
      settled = true;
      signal.removeEventListener("abort", onAbort);
      resolve(Buffer.concat(chunks));
    });
  });
}
