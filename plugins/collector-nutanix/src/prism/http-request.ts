import http from "node:http";
import https from "node:https";

export interface HttpAnswer {
  status: number;
  body: string;
}

export interface HttpRequest {
  method: "GET" | "POST";
  url: URL;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Agents per TLS policy, so verify_ssl=false never weakens another connection's checks. */
const agents = {
  verified: new https.Agent({ keepAlive: true, rejectUnauthorized: true }),
  unverified: new https.Agent({ keepAlive: true, rejectUnauthorized: false }),
  plain: new http.Agent({ keepAlive: true }),
};

/** One HTTP exchange; rejects on network failure, abort or timeout (the error's `timedOut` tells which). */
export function httpRequest(req: HttpRequest, verifySsl: boolean): Promise<HttpAnswer> {
  const secure = req.url.protocol === "https:";
  const transport = secure ? https : http;
  const agent = secure ? (verifySsl ? agents.verified : agents.unverified) : agents.plain;
  return new Promise((resolve, reject) => {
    const request = transport.request(req.url, { method: req.method, headers: req.headers, agent, signal: req.signal }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      response.on("error", reject);
    });
    request.setTimeout(req.timeoutMs, () => request.destroy(Object.assign(new Error(`timed out after ${req.timeoutMs} ms`), { timedOut: true })));
    request.on("error", reject);
    request.end(req.body);
  });
}
