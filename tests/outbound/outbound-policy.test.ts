import { createServer as createHttpServer, type Server } from "node:http";
import { createServer, type AddressInfo } from "node:net";
import { decodeError } from "@cloudforet/errors";
import { inventoryModule } from "@cloudforet/inventory";
import { notificationModule } from "@cloudforet/notification";
import { Channel_ChannelType, ChannelService } from "@cloudforet/proto/cloudforet/notification/v1/channel_pb";
import { CollectorService } from "@cloudforet/proto/cloudforet/inventory/v1/collector_pb";
import { WorkspaceService } from "@cloudforet/proto/cloudforet/identity/v1/workspace_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { notificationTestEnv } from "../notification/support/env";
import { createSequence, outputsOf, runInstance, startOrchestration, type TestOrchestration } from "../orchestration/support";
import { startTestPlatform, type TestPlatform } from "../support/platform";

// The outbound-request policy end to end (README "Security"): real services, real local servers.
// `bare` runs with no allowlist, as production does; `allowing` allowlists only 127.0.0.2, where a
// "public-looking" server lives that redirects inward and answers too much.

let platform: TestPlatform;
let bare: TestOrchestration;
let allowing: TestOrchestration;
let outside: Server;
let outsideUrl: string;

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

beforeAll(async () => {
  platform = await startTestPlatform({ modules: [notificationModule, inventoryModule], env: notificationTestEnv({ CLOUDFORET_OUTBOUND_ALLOW: "" }) });
  await platform.client(WorkspaceService).create({ workspaceId: "ws-1", name: "One" });
  outside = createHttpServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname === "/redirect") return void res.writeHead(302, { location: url.searchParams.get("to")! }).end();
    if (url.pathname === "/big") return void res.end("x".repeat(4096));
    if (url.pathname === "/missing") return void res.writeHead(404).end("secret upstream detail");
    res.end("fine");
  });
  await new Promise<void>((resolve) => outside.listen(0, "127.0.0.2", resolve));
  outsideUrl = `http://127.0.0.2:${(outside.address() as AddressInfo).port}`;
  [bare, allowing] = await Promise.all([
    startOrchestration({ CLOUDFORET_OUTBOUND_ALLOW: "" }),
    startOrchestration({ CLOUDFORET_OUTBOUND_ALLOW: "127.0.0.2/32", CLOUDFORET_OUTBOUND_MAX_RESPONSE_BYTES: "1024" }),
  ]);
}, 120_000);

afterAll(async () => {
  await Promise.all([bare?.close(), allowing?.close(), platform?.close()]);
  await new Promise((resolve) => outside?.close(resolve));
});

/** Runs one http_request step; the instance's error text (or "" when it completed) and output. */
let sequences = 0;
async function httpRequest(orch: TestOrchestration, name: string, url: string): Promise<{ error: string; output: unknown }> {
  const id = await createSequence(orch, `${name}-${++sequences}`, [{ type: "step", id: "h", handler: "http_request", params: { url } }]);
  const instance = await runInstance(orch, id);
  return { error: instance.context.runtime.error ?? "", output: ((await outputsOf(orch, instance.id)) as Record<string, unknown>).h };
}

describe("http_request", () => {
  it("cannot read identity's /metrics, and the refusal reads the same for an open and a closed port", async () => {
    const identity = new URL(platform.url("identity"));
    const metrics = await httpRequest(bare, "metrics", `http://127.0.0.1:${identity.port}/metrics`);
    const closed = await httpRequest(bare, "closed", `http://127.0.0.1:${await closedPort()}/metrics`);
    const postgres = await httpRequest(bare, "postgres", "http://127.0.0.1:5432/");
    expect(metrics.error).toBe("http_request: refused to connect to 127.0.0.1: the address is not allowed for outbound requests");
    expect(closed.error).toBe(metrics.error);
    expect(postgres.error).toBe(metrics.error);
    expect(metrics.output).toBeUndefined();
    // Other spellings of loopback and the metadata address are refused the same way.
    for (const url of [`http://[::ffff:127.0.0.1]:${identity.port}/metrics`, `http://2130706433:${identity.port}/metrics`, "http://169.254.169.254/latest/meta-data/"]) {
      expect((await httpRequest(bare, "spelling", url)).error).toMatch(/^http_request: refused to connect to /);
    }
  });

  it("refuses a host name resolving to loopback at connect time", async () => {
    const identity = new URL(platform.url("identity"));
    expect((await httpRequest(allowing, "localhost", `http://localhost:${identity.port}/metrics`)).error).toBe(
      "http_request: refused to connect to localhost: the address is not allowed for outbound requests",
    );
  });

  it("re-checks redirects: an allowed server pointing at 127.0.0.1 or 169.254.169.254 is refused", async () => {
    const identity = new URL(platform.url("identity"));
    expect((await httpRequest(allowing, "fine", `${outsideUrl}/fine`)).output).toEqual({ status: 200, body: "fine" });
    const inward = await httpRequest(allowing, "to-identity", `${outsideUrl}/redirect?to=${encodeURIComponent(`http://127.0.0.1:${identity.port}/metrics`)}`);
    expect(inward.error).toBe("http_request: refused to connect to 127.0.0.1: the address is not allowed for outbound requests");
    const metadata = await httpRequest(allowing, "to-metadata", `${outsideUrl}/redirect?to=${encodeURIComponent("http://169.254.169.254/latest/meta-data/")}`);
    expect(metadata.error).toBe("http_request: refused to connect to 169.254.169.254: the address is not allowed for outbound requests");
  });

  it("cuts a response over the size cap with a clear error", async () => {
    const big = await httpRequest(allowing, "big", `${outsideUrl}/big`);
    expect(big.error).toBe(`http_request: GET ${outsideUrl}/big: the response of 127.0.0.2 is too large (more than 1024 bytes)`);
  });

  it("never shows URL credentials or the upstream's body in the error", async () => {
    const port = new URL(outsideUrl).port;
    const missing = await httpRequest(allowing, "creds-404", `http://deploy:hunter2-pw@127.0.0.2:${port}/missing`);
    expect(missing.error).toBe(`http_request: HTTP 404 from http://127.0.0.2:${port}/missing`);
    const refused = await httpRequest(bare, "creds-refused", "http://deploy:hunter2-pw@127.0.0.1:5432/");
    const unreachable = await httpRequest(allowing, "creds-down", `http://deploy:hunter2-pw@127.0.0.2:${await closedPort()}/`);
    for (const { error } of [missing, refused, unreachable]) {
      expect(error).not.toContain("hunter2");
      expect(error).not.toContain("secret upstream detail");
    }
    expect(unreachable.error).toMatch(/could not connect to 127\.0\.0\.2$/);
  });
});

describe("stored URLs are refused when they point inside", () => {
  const failure = (promise: Promise<unknown>) => promise.then(() => expect.fail("expected an error"), (err) => decodeError(err));

  it("channels: options.url and options.host", async () => {
    const channels = platform.client(ChannelService);
    for (const [channelType, options, parameter] of [
      [Channel_ChannelType.WEBHOOK, { url: "http://169.254.169.254/" }, "options.url"],
      [Channel_ChannelType.SLACK, { url: "http://[fd00:ec2::254]/hook" }, "options.url"],
      [Channel_ChannelType.WEBHOOK, { url: "http://localhost:8080/hook" }, "options.url"],
      [Channel_ChannelType.EMAIL, { host: "169.254.169.254", from: "a@example.com" }, "options.host"],
    ] as const) {
      const err = await failure(channels.create({ name: "inside", channelType, options: options as never, workspaceId: "ws-1" }));
      expect(err).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter } });
    }
  });

  it("collectors: plugin_info.endpoint", async () => {
    const collectors = platform.client(CollectorService);
    const err = await failure(collectors.create({ name: "inside", provider: "aws", pluginInfo: { endpoint: "http://169.254.169.254/" }, workspaceId: "ws-1" }));
    expect(err).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "plugin_info.endpoint" } });
  });

  it("recurrent requests: target.url", async () => {
    const res = await bare.rest("POST", "/recurrent-requests", { recurrence: { schedule_type: "interval", interval_seconds: 60 }, target: { url: "http://169.254.169.254/" } });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/target\.url/);
  });
});
