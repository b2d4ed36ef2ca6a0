import type { StreamResponse, UnaryResponse } from "@connectrpc/connect";

/**
 * Hands back `res` and calls `end` once the call is over: at once for a unary response, when the
 * response stream finishes or fails for a streaming one. (A call that threw is ended by its caller.)
 * Shared by the interceptors that time, log or trace a call.
 */
export function endWhenDone<R extends UnaryResponse | StreamResponse>(res: R, end: (err?: unknown) => void): R {
  if (!res.stream) {
    end();
    return res;
  }
  return { ...res, message: passThrough(res.message, end) } as R;
}

async function* passThrough<T>(messages: AsyncIterable<T>, end: (err?: unknown) => void): AsyncIterable<T> {
  let failure: unknown;
  try {
    yield* messages;
  } catch (err) {
    failure = err;
    throw err;
  } finally {
    end(failure);
  }
}
