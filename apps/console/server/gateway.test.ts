// @vitest-environment node
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startConsoleGateway, type ConsoleGateway } from "./gateway";
import { serviceForPath } from "./routes";

/** A stand-in service: echoes which service it is, the path and the auth header; /Stream sends 3 chunks slowly. */
function fakeService(name: string): Promise<{ url: string; server: http.Server }> {
  const server = http.createServer((req, res) => {
    if (req.url?.endsWith("/Watch")) {
      res.writeHead(200, { "content-type": "application/connect+json" });
      let n = 0;
      const tick = setInterval(() => {
        res.write(`chunk-${n++};`);
        if (n === 3) {
          clearInterval(tick);
          res.end();
        }
      }, 30);
      return;
    }
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => res.writeHead(200, { "content-type": "application/json", "x-request-id": "r-1" }).end(JSON.stringify({ name, path: req.url, auth: req.headers.authorization, body })));
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server })));
}

let gateway: ConsoleGateway;
const upstreams: http.Server[] = [];

beforeAll(async () => {
  const dist = mkdtempSync(path.join(tmpdir(), "console-dist-"));
  mkdirSync(path.join(dist, "assets"));
  writeFileSync(path.join(dist, "index.html"), "<!doctype html><title>console</title>");
  writeFileSync(path.join(dist, "assets", "app-abc.js"), "console.log('hi');".repeat(50));
  const cs = await fakeService("cloud-service");
  const inv = await fakeService("inventory");
  upstreams.push(cs.server, inv.server);
  gateway = await startConsoleGateway({ port: 0, services: { "cloud-service": cs.url, inventory: inv.url, identity: "http://127.0.0.1:1" }, distDir: dist });
});

afterAll(async () => {
  await gateway.close();
  upstreams.forEach((s) => s.close());
});

describe("serviceForPath", () => {
  it("routes by proto package and ignores everything else", () => {
    expect(serviceForPath("/cloudforet.cloud_service.v1.CloudServiceService/List")).toBe("cloud-service");
    expect(serviceForPath("/cloudforet.orchestration.v1.InstanceService/Retry")).toBe("orchestration");
    expect(serviceForPath("/cloudforet.unknown.v1.X/Y")).toBeUndefined();
    expect(serviceForPath("/cloud-services")).toBeUndefined();
    expect(serviceForPath("/assets/index.js")).toBeUndefined();
  });
});

describe("startConsoleGateway", () => {
  it("forwards a call to the service that owns its package, headers and body included", async () => {
    const res = await fetch(`${gateway.url}/cloudforet.cloud_service.v1.CloudServiceService/List`, {
      method: "POST",
      headers: { authorization: "Bearer t", "content-type": "application/json" },
      body: '{"query":{}}',
    });
    expect(res.headers.get("x-request-id")).toBe("r-1");
    expect(await res.json()).toEqual({ name: "cloud-service", path: "/cloudforet.cloud_service.v1.CloudServiceService/List", auth: "Bearer t", body: '{"query":{}}' });
  });

  it("streams a server stream through as it comes", async () => {
    const res = await fetch(`${gateway.url}/cloudforet.inventory.v1.JobService/Watch`, { method: "POST", body: "{}" });
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain("chunk-0;");
    let rest = "";
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value);
    expect(rest).toContain("chunk-2;");
  });

  it("answers unavailable in the Connect error shape when the service is down or unknown to it", async () => {
    const down = await fetch(`${gateway.url}/cloudforet.identity.v1.AuthService/Login`, { method: "POST", body: "{}" });
    expect(down.status).toBe(503);
    expect((await down.json()).code).toBe("unavailable");
    const missing = await fetch(`${gateway.url}/cloudforet.cost.v1.CostService/Analyze`, { method: "POST", body: "{}" });
    expect(missing.status).toBe(503);
  });

  it("serves the built console: assets gzipped and immutable, client routes get index.html, missing assets 404", async () => {
    const asset = await new Promise<{ headers: http.IncomingHttpHeaders; body: Buffer }>((resolve) =>
      http.get(`${gateway.url}/assets/app-abc.js`, { headers: { "accept-encoding": "gzip" } }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
      }),
    );
    expect(asset.headers["content-encoding"]).toBe("gzip");
    expect(asset.headers["cache-control"]).toContain("immutable");
    expect(gunzipSync(asset.body).toString()).toContain("console.log");
    const route = await fetch(`${gateway.url}/cloud-services?f=provider:eq:nutanix`);
    expect(route.headers.get("cache-control")).toBe("no-cache");
    expect(await route.text()).toContain("<title>console</title>");
    expect((await fetch(`${gateway.url}/assets/missing.js`)).status).toBe(404);
    expect((await fetch(`${gateway.url}/..%2f..%2fetc/passwd`)).status).toBe(404);
    expect((await fetch(`${gateway.url}/%E0%A4%A`)).status).toBe(400);
    expect((await fetch(`${gateway.url}/health`)).status).toBe(200);
  });
});
