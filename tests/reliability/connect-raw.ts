/**
 * Connect protocol calls written by hand (JSON over HTTP/1.1 with fetch), so a test can send
 * bodies no generated client would produce: wrong types, unknown fields, broken envelopes.
 */

/** What the server answered: the HTTP status and the Connect code ("ok" on success). */
export interface RawAnswer {
  status: number;
  code: string;
  message?: string;
  body: unknown;
}

/** Generous: on a busy machine a 1 MB batch takes a while; slow is not wrong, hanging is. */
const timeoutMs = 60_000;

function headersFor(contentType: string, token?: string): Record<string, string> {
  const headers: Record<string, string> = { "content-type": contentType, "connect-protocol-version": "1" };
  if (token) headers.authorization = `Bearer ${token}`;
  return headers;
}

/** A unary Connect call with a raw JSON body (any value, or an already serialized string). */
export async function postUnary(baseUrl: string, procedure: string, body: unknown, token?: string): Promise<RawAnswer> {
  const response = await fetch(`${baseUrl}/${procedure}`, {
    method: "POST",
    headers: headersFor("application/json", token),
    body: typeof body === "string" ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // left as text: a non-JSON answer is reported as is
  }
  if (response.status === 200) return { status: 200, code: "ok", body: parsed };
  const error = (parsed ?? {}) as { code?: string; message?: string };
  return { status: response.status, code: error.code ?? `http-${response.status}`, message: error.message, body: parsed };
}

/** One enveloped frame of the Connect streaming protocol. */
function envelope(flags: number, payload: Uint8Array): Uint8Array {
  const frame = new Uint8Array(5 + payload.length);
  frame[0] = flags;
  new DataView(frame.buffer).setUint32(1, payload.length);
  frame.set(payload, 5);
  return frame;
}

/**
 * A client-streaming Connect call (application/connect+json): every message in its envelope, the
 * stream closed after the last; the answer is the end-of-stream frame's error, if any.
 */
export async function postClientStream(baseUrl: string, procedure: string, messages: unknown[], token?: string): Promise<RawAnswer> {
  const encoder = new TextEncoder();
  const frames = messages.map((m) => envelope(0, encoder.encode(typeof m === "string" ? m : JSON.stringify(m))));
  const response = await fetch(`${baseUrl}/${procedure}`, {
    method: "POST",
    headers: headersFor("application/connect+json", token),
    body: Buffer.concat(frames),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (response.status !== 200) {
    let error: { code?: string; message?: string } = {};
    try {
      error = JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      // not JSON
    }
    return { status: response.status, code: error.code ?? `http-${response.status}`, message: error.message, body: error };
  }
  const decoded: { flags: number; json: unknown }[] = [];
  for (let at = 0; at + 5 <= bytes.length; ) {
    const length = new DataView(bytes.buffer, bytes.byteOffset + at + 1, 4).getUint32(0);
    const payload = new TextDecoder().decode(bytes.subarray(at + 5, at + 5 + length));
    decoded.push({ flags: bytes[at], json: payload ? JSON.parse(payload) : {} });
    at += 5 + length;
  }
  const end = decoded.find((f) => (f.flags & 0x02) !== 0);
  if (!end) return { status: 200, code: "no-end-of-stream", body: decoded };
  const error = (end.json as { error?: { code?: string; message?: string } }).error;
  if (error) return { status: 200, code: error.code ?? "unknown", message: error.message, body: end.json };
  return { status: 200, code: "ok", body: decoded.find((f) => f.flags === 0)?.json };
}

/**
 * A REST call with a raw body (a value, or an already serialized string that may hold what
 * JSON.stringify would never write, like a lone `\ud800` escape) and a path sent as written.
 */
export async function sendRest(baseUrl: string, method: string, path: string, body?: unknown, token?: string): Promise<RawAnswer> {
  const headers: Record<string, string> = body === undefined ? {} : { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // left as text
  }
  const error = (parsed ?? {}) as { error?: string };
  return { status: response.status, code: response.status < 400 ? "ok" : `http-${response.status}`, message: error.error, body: parsed };
}
