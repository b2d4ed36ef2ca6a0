import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";

/** One request an HTTP receiver got. */
export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
  /** When it arrived (Date.now()). */
  at: number;
}

export interface HttpReceiver {
  /** Base URL, e.g. http://127.0.0.1:40123 */
  url: string;
  requests: ReceivedRequest[];
  /** Requests to one path. */
  to(path: string): ReceivedRequest[];
  /** How to answer a path from now on: a status (and body), or "hang" to never answer. */
  respond(path: string, status: number | "hang", body?: string): void;
  /** Answers the next `times` requests to a path with `status`, then as before. */
  failNext(path: string, times: number, status: number | "hang"): void;
  /** Holds every answer to a path for `ms` from now on (the next `times` only, if given). */
  delay(path: string, ms: number, times?: number): void;
  /** The most requests to a path that were open at the same time. */
  maxConcurrent(path: string): number;
  close(): Promise<void>;
}

/**
 * The SYSTEM notice of a finished collection job (a webhook body). The services of every test file
 * hear every event on the shared stream (tests/consumer-prefix.setup.ts), so a job finished by an
 * inventory test running meanwhile is announced to this file's channels of the same domain too. No
 * other test sends one through a webhook on purpose: unless `keepJobNotices` (job-finished.test.ts)
 * they are answered 200, neither recorded nor given the delays and failures a test set up for its own.
 */
function isJobNotice(body: unknown): boolean {
  const notice = body as { notification_type?: unknown; tags?: { job_id?: unknown } } | null;
  return notice?.notification_type === "SYSTEM" && typeof notice.tags?.job_id === "string";
}

/** A local webhook endpoint (node:http) that records every request and answers 200 unless told otherwise. */
export async function startHttpReceiver(options: { keepJobNotices?: boolean } = {}): Promise<HttpReceiver> {
  const requests: ReceivedRequest[] = [];
  const answers = new Map<string, { status: number | "hang"; body: string }>();
  const failures = new Map<string, { times: number; status: number | "hang" }>();
  const delays = new Map<string, { ms: number; times: number }>();
  const open = new Map<string, number>();
  const peak = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const path = req.url ?? "/";
    open.set(path, (open.get(path) ?? 0) + 1);
    peak.set(path, Math.max(peak.get(path) ?? 0, open.get(path)!));
    res.on("close", () => open.set(path, (open.get(path) ?? 1) - 1));
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      if (!options.keepJobNotices && isJobNotice(body)) {
        res.writeHead(200, { "content-type": "text/plain" }).end("ok");
        return;
      }
      requests.push({ method: req.method ?? "", path, headers: req.headers, body, at: Date.now() });
      const delayed = delays.get(path);
      if (delayed && delayed.times > 0) {
        delayed.times -= 1;
        setTimeout(() => answer(path, res), delayed.ms);
        return;
      }
      answer(path, res);
    });
  });
  function answer(path: string, res: ServerResponse) {
    if (res.destroyed) return; // the client gave up while the answer was held
    const failing = failures.get(path);
    if (failing && failing.times > 0) {
      failing.times -= 1;
      if (failing.status === "hang") return;
      res.writeHead(failing.status, { "content-type": "text/plain" }).end("temporarily broken");
      return;
    }
    const reply = answers.get(path) ?? { status: 200, body: "ok" };
    if (reply.status === "hang") return;
    res.writeHead(reply.status, { "content-type": "text/plain" }).end(reply.body);
  }
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    to: (path) => requests.filter((r) => r.path === path),
    respond(path, status, body = status === 200 ? "ok" : "upstream exploded") {
      answers.set(path, { status, body });
    },
    failNext(path, times, status) {
      failures.set(path, { times, status });
    },
    delay(path, ms, times = Number.POSITIVE_INFINITY) {
      delays.set(path, { ms, times });
    },
    maxConcurrent: (path) => peak.get(path) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** One e-mail a receiver accepted, parsed. */
export interface ReceivedMail {
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
  /** Who logged in (empty without AUTH). */
  user: string;
}

export interface SmtpReceiver {
  host: string;
  port: number;
  mails: ReceivedMail[];
  close(): Promise<void>;
}

/**
 * A local SMTP server (smtp-server) without TLS. With `credentials`, it requires AUTH with exactly
 * that username and password; the parsed mails land in `mails`.
 */
export async function startSmtpReceiver(credentials?: { username: string; password: string }): Promise<SmtpReceiver> {
  const mails: ReceivedMail[] = [];
  const server = new SMTPServer({
    disabledCommands: credentials ? ["STARTTLS"] : ["STARTTLS", "AUTH"],
    authOptional: !credentials,
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, callback) {
      if (credentials && auth.username === credentials.username && auth.password === credentials.password) return callback(null, { user: auth.username });
      return callback(new Error("Invalid username or password"));
    },
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((mail) => {
          mails.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
            to: session.envelope.rcptTo.map((r) => r.address),
            subject: mail.subject ?? "",
            text: mail.text ?? "",
            html: typeof mail.html === "string" ? mail.html : "",
            user: typeof session.user === "string" ? session.user : "",
          });
          callback();
        })
        .catch((err: Error) => callback(err));
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = (server.server as import("node:net").Server).address() as AddressInfo;
  return { host: "127.0.0.1", port, mails, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
