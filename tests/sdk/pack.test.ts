// The SDK and the plugin SDK as a user installs them: built with tsup, packed, installed from the
// tarball into a project outside the workspace, and used by plain Node scripts against real services.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Collector } from "@cloudforet/proto/cloudforet/inventory/plugin/v1/collector_pb";
import { Health, HealthCheckResponse_ServingStatus } from "@cloudforet/proto/grpc/health/v1/health_pb";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPlatform, type TestPlatform } from "../support/platform";
import { buildAndPack, nodeScript, scratchProject } from "./packaging";
import { createApiKeyUser } from "./support";

let platform: TestPlatform;
let apiKey: string;
let packs: string;
let scratch: string;
let plugin: ChildProcess | undefined;

beforeAll(async () => {
  packs = mkdtempSync(path.join(tmpdir(), "cloudforet-tarballs-"));
  const [sdk, pluginSdk] = [await buildAndPack("sdk", packs), await buildAndPack("plugin-sdk", packs)];
  scratch = await scratchProject([sdk, pluginSdk]);
  platform = await startTestPlatform({ modules: [] });
  apiKey = await createApiKeyUser(platform, "sdk-packed");
}, 600_000);

afterAll(async () => {
  plugin?.kill();
  await platform?.close();
  for (const dir of [packs, scratch]) if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the packed @cloudforet/sdk", () => {
  it("installs standalone: its manifest names registry packages only", () => {
    const manifest = JSON.parse(readFileSync(path.join(scratch, "node_modules/@cloudforet/sdk/package.json"), "utf8"));
    expect(Object.keys(manifest.dependencies).filter((name) => name.startsWith("@cloudforet/"))).toEqual([]);
    expect(manifest.exports["."]).toEqual({ types: "./dist/index.d.ts", import: "./dist/index.js" });
    expect(manifest.exports["./node"]).toEqual({ types: "./dist/node.d.ts", import: "./dist/node.js" });
  });

  it("the Node entry logs in with an API key over gRPC and reports the call's request id (withResponse)", async () => {
    const out = await nodeScript(
      scratch,
      "node-entry.mjs",
      `import { Client, withResponse, NotFoundError } from "@cloudforet/sdk/node";
const client = new Client({ apiKey: process.env.KEY, userId: "sdk-packed", urls: { identity: process.env.IDENTITY_URL } });
const { data, response } = await withResponse((o) => client.identity.workspaces.create({ workspaceId: "ws-packed", name: "Packed" }, o), { requestId: "req-packed-1" });
const missing = await client.identity.workspaces.get("ws-nope").catch((e) => e);
const names = [];
for await (const ws of client.identity.workspaces.list()) names.push(ws.id);
console.log(JSON.stringify({ id: data.id, name: data.data.name, requestId: response.requestId, notFound: missing instanceof NotFoundError, names }));
`,
      { KEY: apiKey, IDENTITY_URL: platform.url("identity") },
    );
    const result = JSON.parse(out);
    expect(result).toMatchObject({ id: "ws-packed", name: "Packed", requestId: "req-packed-1", notFound: true });
    expect(result.names).toContain("ws-packed");
  });

  it("the core entry calls a real service over fetch (Connect protocol), as a browser would", async () => {
    const out = await nodeScript(
      scratch,
      "core-entry.mjs",
      `import { Client } from "@cloudforet/sdk";
const client = new Client({ apiKey: process.env.KEY, userId: "sdk-packed", urls: { identity: process.env.IDENTITY_URL }, protocol: "connect" });
const ws = await client.identity.workspaces.get("ws-packed");
console.log(JSON.stringify({ id: ws.id, name: ws.data.name, logins: client.session.stats.logins }));
`,
      { KEY: apiKey, IDENTITY_URL: platform.url("identity") },
    );
    expect(JSON.parse(out)).toEqual({ id: "ws-packed", name: "Packed", logins: 1 });
  });

  it("the core entry bundles for a browser: no node: modules, no connect-node, pino or prom-client", async () => {
    const entry = path.join(scratch, "node_modules/@cloudforet/sdk/dist/index.js");
    // platform "browser" fails on any node: import; the metafile lists every module pulled in.
    const result = await build({ entryPoints: [entry], bundle: true, platform: "browser", format: "esm", write: false, metafile: true, logLevel: "silent" });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((p) => p.includes("@connectrpc/connect-web"))).toBe(true);
    expect(inputs.filter((p) => /connect-node|\/pino\/|prom-client|opossum|^node:/.test(p))).toEqual([]);
    const code = result.outputFiles[0]!.text;
    expect(code).not.toMatch(/from\s*["']node:|require\(["']node:/);
  });
});

describe("the packed @cloudforet/plugin-sdk", () => {
  it("serves a plugin that answers Health.Check and Verify", async () => {
    const script = `import { definePlugin, servePlugin, authenticateFailure } from "@cloudforet/plugin-sdk";
const plugin = definePlugin({
  init: () => ({ supported_resource_type: ["cloud_service.CloudService"] }),
  verify: (_options, secret) => { if (secret.password !== "right") throw authenticateFailure("Invalid credentials"); },
  async *collect() {},
});
const served = await servePlugin(plugin, { host: "127.0.0.1", port: 0 });
console.log(served.url);
`;
    writeFileSync(path.join(scratch, "plugin.mjs"), script);
    const child = spawn(process.execPath, ["plugin.mjs"], { cwd: scratch, stdio: ["ignore", "pipe", "inherit"] });
    plugin = child;
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout!.on("data", (chunk: Buffer) => {
        const line = chunk.toString().trim();
        if (line.startsWith("http")) resolve(line);
      });
      child.once("exit", (code) => reject(new Error(`the plugin exited (${code})`)));
    });
    const transport = createGrpcTransport({ baseUrl: url });
    expect((await createClient(Health, transport).check({ service: "" })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    const collector = createClient(Collector, transport);
    await collector.verify({ secretData: { password: "right" } });
    await expect(collector.verify({ secretData: { password: "wrong" } })).rejects.toThrow(/Invalid credentials/);
  });
});
