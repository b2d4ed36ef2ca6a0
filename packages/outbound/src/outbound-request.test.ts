import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OutboundPolicy } from "./outbound-policy";
import { outboundRequest } from "./outbound-request";

// Real local servers; "public.test" is a name a test resolver points at 127.0.0.1 and the policy
// allowlists by name, standing in for a public host that redirects inward.
let server: Server;
let port: number;
const hits: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    hits.push(req.url ?? "");
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname === "/redirect") return void res.writeHead(302, { location: url.searchParams.get("to")! }).end();
    if (url.pathname === "/loop") return void res.writeHead(302, { location: "/loop" }).end();
    if (url.pathname === "/big") return void res.end(Buffer.alloc(64 * 1024, 97));
    if (url.pathname === "/big-chunked") {
      res.writeHead(200, { "transfer-encoding": "chunked" });
      for (let i = 0; i < 64; i++) res.write(Buffer.alloc(1024, 98));
      return void res.end();
    }
    if (url.pathname === "/hang") return;
    if (url.pathname === "/encoding") return void res.end(req.headers["accept-encoding"] ?? "");
    if (url.pathname === "/gzip") return void res.writeHead(200, { "content-encoding": "gzip" }).end(gzipSync("hello gzip"));
    if (url.pathname === "/bomb") return void res.writeHead(200, { "content-encoding": "gzip" }).end(gzipSync(Buffer.alloc(8 * 1024 * 1024)));
    if (url.pathname === "/compress") return void res.writeHead(200, { "content-encoding": "compress" }).end("whatever");
    if (url.pathname === "/drip") {
      res.writeHead(200);
      const timer = setInterval(() => res.write("x"), 20);
      return void res.on("close", () => clearInterval(timer));
    }
    if (url.pathname === "/error-body") {
      res.writeHead(500);
      const timer = setInterval(() => res.write(Buffer.alloc(16 * 1024)), 5);
      return void res.on("close", () => {
        clearInterval(timer);
        hits.push("closed /error-body");
      });
    }
    res.end(`secret body ${req.headers.authorization ?? ""}`);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const publicTest = (extra: Partial<ConstructorParameters<typeof OutboundPolicy>[0]> = {}) =>
  new OutboundPolicy({ allow: ["public.test"], resolve: async (host) => (host === "public.test" || host === "inward.test" ? [{ address: "127.0.0.1", family: 4 }] : []), ...extra });

describe("outboundRequest", () => {
  it("reaches an allowed host and returns its answer", async () => {
    const res = await outboundRequest(publicTest(), { url: `http://public.test:${port}/hello` });
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe("secret body ");
  });

  it("refuses a literal loopback address up front, with the same text whether the port is open or not", async () => {
    const policy = new OutboundPolicy();
    const open = await outboundRequest(policy, { url: `http://127.0.0.1:${port}/` }).catch((e: Error) => e);
    const closed = await outboundRequest(policy, { url: "http://127.0.0.1:1/" }).catch((e: Error) => e);
    expect(open).toMatchObject({ kind: "refused", message: "refused to connect to 127.0.0.1: the address is not allowed for outbound requests" });
    expect((closed as Error).message).toBe((open as Error).message);
    expect((await outboundRequest(policy, { url: `http://[::ffff:127.0.0.1]:${port}/` }).catch((e: Error) => e)) as Error).toMatchObject({ kind: "refused" });
  });

  it("refuses a name that resolves to loopback, at connect time (localhost, and a test resolver's name)", async () => {
    const before = hits.length;
    await expect(outboundRequest(new OutboundPolicy(), { url: `http://localhost:${port}/` })).rejects.toMatchObject({ kind: "refused", message: expect.stringContaining("localhost") });
    await expect(outboundRequest(publicTest(), { url: `http://inward.test:${port}/` })).rejects.toMatchObject({ kind: "refused" });
    expect(hits.length).toBe(before);
  });

  it("re-checks every redirect: to 127.0.0.1 and to 169.254.169.254 is refused", async () => {
    const before = hits.length;
    for (const to of [`http://127.0.0.1:${port}/hello`, "http://169.254.169.254/latest/meta-data/", `http://inward.test:${port}/hello`]) {
      await expect(outboundRequest(publicTest(), { url: `http://public.test:${port}/redirect?to=${encodeURIComponent(to)}` })).rejects.toMatchObject({ kind: "refused" });
    }
    // Only the redirecting server was reached.
    expect(hits.slice(before).every((h) => h.startsWith("/redirect"))).toBe(true);
    const followed = await outboundRequest(publicTest(), { url: `http://public.test:${port}/redirect?to=/hello`, headers: { authorization: "Bearer t" } });
    expect(followed.body.toString()).toBe("secret body Bearer t");
  });

  it("stops after 5 redirects", async () => {
    await expect(outboundRequest(publicTest(), { url: `http://public.test:${port}/loop` })).rejects.toMatchObject({ kind: "redirect", message: "too many redirects (more than 5) from public.test" });
  });

  it("cuts a response over the size cap, declared or chunked", async () => {
    const policy = publicTest({ maxResponseBytes: 16 * 1024 });
    await expect(outboundRequest(policy, { url: `http://public.test:${port}/big` })).rejects.toMatchObject({ kind: "too_large", message: "the response of public.test is too large (more than 16384 bytes)" });
    await expect(outboundRequest(policy, { url: `http://public.test:${port}/big-chunked` })).rejects.toMatchObject({ kind: "too_large" });
  });

  it("times out at the policy's cap even when the caller asks for longer", async () => {
    const started = Date.now();
    await expect(outboundRequest(publicTest({ timeoutMs: 300 }), { url: `http://public.test:${port}/hang`, timeoutMs: 60_000 })).rejects.toMatchObject({ kind: "timeout", message: "timed out after 300 ms" });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("reports a failed connection generically", async () => {
    const policy = new OutboundPolicy({ allow: ["127.0.0.1/32"] });
    await expect(outboundRequest(policy, { url: "http://127.0.0.1:1/" })).rejects.toMatchObject({ kind: "connect", message: "could not connect to 127.0.0.1" });
  });

  it("asks for identity, inflates a compressed answer anyway and counts the inflated bytes against the cap", async () => {
    expect((await outboundRequest(publicTest(), { url: `http://public.test:${port}/encoding` })).body.toString()).toBe("identity");
    expect((await outboundRequest(publicTest(), { url: `http://public.test:${port}/gzip` })).body.toString()).toBe("hello gzip");
    // 8 KiB on the wire, 8 MiB inflated.
    await expect(outboundRequest(publicTest({ maxResponseBytes: 64 * 1024 }), { url: `http://public.test:${port}/bomb` })).rejects.toMatchObject({ kind: "too_large" });
    await expect(outboundRequest(publicTest(), { url: `http://public.test:${port}/compress` })).rejects.toMatchObject({ kind: "malformed", message: "the response of public.test uses an unsupported content-encoding" });
  });

  it("ends a body that never finishes at the deadline", async () => {
    const started = Date.now();
    await expect(outboundRequest(publicTest({ timeoutMs: 300 }), { url: `http://public.test:${port}/drip` })).rejects.toMatchObject({ kind: "timeout", message: "timed out after 300 ms" });
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it("closes the connection instead of draining a body it discards", async () => {
    const res = await outboundRequest(publicTest(), { url: `http://public.test:${port}/error-body`, discardBody: true });
    expect(res.status).toBe(500);
    await expect.poll(() => hits.includes("closed /error-body"), { timeout: 1_000 }).toBe(true);
  });
});
