import { Code, type Client } from "@connectrpc/connect";
import { createServer, type AddressInfo } from "node:net";
import postgres from "postgres";
import { decodeError } from "@cloudforet/errors";
import { SecretService } from "@cloudforet/proto/cloudforet/identity/v1/secret_pb";
import { WorkspaceService } from "@cloudforet/proto/cloudforet/identity/v1/workspace_pb";
import { Channel_ChannelType, ChannelService } from "@cloudforet/proto/cloudforet/notification/v1/channel_pb";
import { Delivery_Status } from "@cloudforet/proto/cloudforet/notification/v1/delivery_pb";
import { notificationModule } from "@cloudforet/notification";
import { secretCanary } from "@cloudforet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPlatform, type TestPlatform } from "../support/platform";
import { notificationTestEnv } from "./support/env";
import { startHttpReceiver, startSmtpReceiver, type HttpReceiver, type SmtpReceiver } from "./support/receivers";

let platform: TestPlatform;
let channels: Client<typeof ChannelService>;
let secrets: Client<typeof SecretService>;
let hooks: HttpReceiver;
let smtp: SmtpReceiver;
// Canaries (packages/testing): the suite's secrets sweep looks for them in every table and log line.
const SMTP_LOGIN = { username: "relay-user", password: secretCanary("smtp_password") };
/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const failure = (promise: Promise<unknown>) => promise.then(() => expect.fail("expected an error"), (err) => decodeError(err));

beforeAll(async () => {
  [hooks, smtp] = await Promise.all([startHttpReceiver(), startSmtpReceiver(SMTP_LOGIN)]);
  platform = await startTestPlatform({ modules: [notificationModule], env: notificationTestEnv({ NOTIFICATION_DELIVERY_TIMEOUT_MS: "2000" }) });
  channels = platform.client(ChannelService);
  secrets = platform.client(SecretService);
  await platform.client(WorkspaceService).create({ workspaceId: "ws-1", name: "One" });
});

afterAll(async () => {
  await platform?.close();
  await Promise.all([hooks?.close(), smtp?.close()]);
});

describe("ChannelService.Create", () => {
  it("creates a webhook channel with an id, normalized options and the caller's scope", async () => {
    const created = await channels.create({
      name: "alerts-hook",
      channelType: Channel_ChannelType.WEBHOOK,
      options: { url: `${hooks.url}/alerts`, method: "put" },
      tags: { team: "sre" },
    });
    expect(created).toMatchObject({
      name: "alerts-hook",
      channelType: Channel_ChannelType.WEBHOOK,
      options: { url: `${hooks.url}/alerts`, method: "PUT" },
      secretId: "",
      tags: { team: "sre" },
      domainId: "domain-default",
      workspaceId: "",
    });
    expect(created.channelId).toMatch(/^ch-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(created.createdAt).toBeDefined();
    const inWorkspace = await channels.create({ name: "alerts-hook", channelType: Channel_ChannelType.WEBHOOK, options: { url: `${hooks.url}/ws1` }, workspaceId: "ws-1" });
    expect(inWorkspace.workspaceId).toBe("ws-1"); // the same name in another workspace is another channel
  });

  it("rejects bad input with INVALID_ARGUMENT naming the field, and a duplicate name with ERROR_CONFLICT", async () => {
    const webhook = Channel_ChannelType.WEBHOOK;
    expect(await failure(channels.create({ channelType: webhook, options: { url: "http://x" } }))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", grpcCode: Code.InvalidArgument, metadata: { parameter: "name" } });
    expect(await failure(channels.create({ name: "n", options: { url: "http://x" } }))).toMatchObject({ metadata: { parameter: "channel_type", value: "0" } });
    expect(await failure(channels.create({ name: "n", channelType: webhook }))).toMatchObject({ metadata: { parameter: "options.url" } });
    expect(await failure(channels.create({ name: "n", channelType: webhook, options: { url: "ftp://x/y" } }))).toMatchObject({ metadata: { parameter: "options.url", value: "ftp://x/y" } });
    expect(await failure(channels.create({ name: "n", channelType: webhook, options: { url: "http://user:pw@x/" } }))).toMatchObject({ metadata: { parameter: "options.url" } });
    expect(await failure(channels.create({ name: "n", channelType: webhook, options: { url: "http://x", method: "GET" } }))).toMatchObject({ metadata: { parameter: "options.method" } });
    expect(await failure(channels.create({ name: "n", channelType: webhook, options: { url: "http://x", password: secretCanary("misplaced_password") } }))).toMatchObject({ metadata: { parameter: "options.password" } });
    expect(await failure(channels.create({ name: "n", channelType: webhook, options: { url: "http://x", headers: { "X-A": 1 } } }))).toMatchObject({ metadata: { parameter: "options.headers.X-A" } });
    const email = Channel_ChannelType.EMAIL;
    expect(await failure(channels.create({ name: "n", channelType: email, options: { from: "a@b.c" } }))).toMatchObject({ metadata: { parameter: "options.host" } });
    expect(await failure(channels.create({ name: "n", channelType: email, options: { host: "smtp.example.com", from: "a@b.c", port: 70000 } }))).toMatchObject({ metadata: { parameter: "options.port" } });
    expect(await failure(channels.create({ name: "n", channelType: email, options: { host: "smtp.example.com", from: "not an address" } }))).toMatchObject({ metadata: { parameter: "options.from" } });
    expect(await failure(channels.create({ name: "n", channelType: email, options: { host: "smtp.example.com", from: "a@b.c", to: ["ok@b.c", "nope"] } }))).toMatchObject({ metadata: { parameter: "options.to[1]" } });
    expect(await failure(channels.create({ name: "n", channelType: Channel_ChannelType.SLACK, options: {} }))).toMatchObject({ metadata: { parameter: "options.url" } });
    expect(await failure(channels.create({ name: "x".repeat(129), channelType: webhook, options: { url: "http://x" } }))).toMatchObject({ metadata: { parameter: "name" } });

    const dup = await failure(channels.create({ name: "alerts-hook", channelType: webhook, options: { url: "http://x" } }));
    expect(dup).toMatchObject({ code: "ERROR_CONFLICT", grpcCode: Code.AlreadyExists, metadata: { name: "alerts-hook", workspace_id: "" } });
  });

  it("takes credentials from an identity secret: NOT_FOUND when it does not exist, INVALID_ARGUMENT when its data does not fit", async () => {
    const missing = await failure(channels.create({ name: "mail", channelType: Channel_ChannelType.EMAIL, options: { host: smtp.host, port: smtp.port, from: "a@b.c" }, secretId: "secret-missing" }));
    expect(missing).toMatchObject({ code: "ERROR_NOT_FOUND", grpcCode: Code.NotFound, metadata: { secret_id: "secret-missing" } });
    // A value no generated id can contain by chance (a random hex id once held "abc").
    const wrongShape = await secrets.create({ name: "not-smtp", data: { token: "tok-never-shown" }, workspaceId: "ws-1" });
    const bad = await failure(channels.create({ name: "mail", channelType: Channel_ChannelType.EMAIL, options: { host: smtp.host, port: smtp.port, from: "a@b.c" }, secretId: wrongShape.secretId }));
    expect(bad).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "secret_id", value: wrongShape.secretId } });
    expect(JSON.stringify(bad)).not.toContain("tok-never-shown");
  });

  it("never returns or stores the secret's data in the clear", async () => {
    const secret = await secrets.create({ name: "smtp-relay", data: SMTP_LOGIN, workspaceId: "ws-1" });
    const created = await channels.create({
      name: "relay-mail",
      channelType: Channel_ChannelType.EMAIL,
      options: { host: smtp.host, port: smtp.port, from: "noreply@company.com", to: ["ops@company.com"] },
      secretId: secret.secretId,
    });
    expect(created.secretId).toBe(secret.secretId);
    expect(created.options).toEqual({ host: smtp.host, port: smtp.port, from: "noreply@company.com", to: ["ops@company.com"] });
    const got = await channels.get({ channelId: created.channelId });
    const listed = await channels.list({});
    for (const shown of [created, got, listed]) expect(JSON.stringify(shown, (_, v: unknown) => (typeof v === "bigint" ? String(v) : v))).not.toContain(SMTP_LOGIN.password);

    const sql = postgres(platform.databaseUrl, { max: 1, onnotice: () => {} });
    try {
      const rows = await sql`select * from notification.channels where channel_id = ${created.channelId}`;
      expect(rows).toHaveLength(1);
      expect(JSON.stringify(rows[0])).not.toContain(SMTP_LOGIN.password);
      expect(rows[0].sealed_credentials).toMatch(/^v1:test:/);
    } finally {
      await sql.end();
    }

    // The sealed copy is what delivery uses: the test mail logs in with the secret's credentials.
    const test = await channels.test({ channelId: created.channelId, recipients: ["reader@company.com"] });
    expect(test).toMatchObject({ channelId: created.channelId, status: Delivery_Status.SUCCEEDED, error: "" });
    expect(smtp.mails.at(-1)).toMatchObject({ to: ["reader@company.com"], subject: "[INFO] CloudForet test notification", user: SMTP_LOGIN.username });
  });
});

describe("ChannelService.Get, List, Delete", () => {
  it("gets by id, NOT_FOUND otherwise", async () => {
    const [hook] = (await channels.list({ query: { filter: [{ k: "name", v: { kind: { case: "stringValue", value: "alerts-hook" } } }, { k: "workspace_id", v: { kind: { case: "stringValue", value: "" } } }] } })).results;
    expect(await channels.get({ channelId: hook.channelId })).toMatchObject({ name: "alerts-hook", options: { method: "PUT" } });
    expect(await failure(channels.get({ channelId: "ch-missing" }))).toMatchObject({ code: "ERROR_NOT_FOUND", metadata: { channel_id: "ch-missing" } });
    expect(await failure(channels.get({}))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "channel_id" } });
  });

  it("lists with the query language: channel_type, tags, options and workspace", async () => {
    await channels.create({ name: "chat", channelType: Channel_ChannelType.SLACK, options: { url: `${hooks.url}/slack`, channel: "#ops" }, tags: { team: "sre" } });
    const all = await channels.list({});
    expect(all.totalCount).toBe(4);
    expect(all.results.map((c) => c.name)).toEqual(["alerts-hook", "alerts-hook", "chat", "relay-mail"]);
    const str = (value: string) => ({ kind: { case: "stringValue" as const, value } });
    expect((await channels.list({ query: { filter: [{ k: "channel_type", v: str("SLACK") }] } })).results.map((c) => c.name)).toEqual(["chat"]);
    expect((await channels.list({ query: { filter: [{ k: "tags.team", v: str("sre") }] } })).totalCount).toBe(2);
    expect((await channels.list({ query: { filter: [{ k: "options.channel", v: str("#ops") }] } })).totalCount).toBe(1);
    expect((await channels.list({ query: { filter: [{ k: "workspace_id", v: str("ws-1") }] } })).totalCount).toBe(1);
    const only = await channels.list({ query: { only: ["channel_id"], page: { limit: 1 } } });
    expect(only.results).toHaveLength(1);
    expect(only.results[0].name).toBe("");
    expect(await failure(channels.list({ query: { filter: [{ k: "sealed_credentials", o: "exists", v: { kind: { case: "boolValue", value: true } } }] } }))).toMatchObject({
      code: "ERROR_INVALID_PARAMETER",
      metadata: { parameter: "query.filter[0]" },
    });
  });

  it("deletes a channel; it is gone afterwards", async () => {
    const made = await channels.create({ name: "short-lived", channelType: Channel_ChannelType.WEBHOOK, options: { url: `${hooks.url}/x` } });
    expect(await channels.delete({ channelId: made.channelId })).toEqual(expect.objectContaining({}));
    expect(await failure(channels.get({ channelId: made.channelId }))).toMatchObject({ code: "ERROR_NOT_FOUND" });
    expect(await failure(channels.delete({ channelId: made.channelId }))).toMatchObject({ code: "ERROR_NOT_FOUND", metadata: { channel_id: made.channelId } });
  });
});

describe("ChannelService.Test", () => {
  it("sends one test message now and reports SUCCEEDED with its duration", async () => {
    const hook = await channels.create({ name: "test-target", channelType: Channel_ChannelType.WEBHOOK, options: { url: `${hooks.url}/test-target` } });
    const result = await channels.test({ channelId: hook.channelId, title: "Ping", message: "Is this thing on?" });
    expect(result).toMatchObject({ channelId: hook.channelId, status: Delivery_Status.SUCCEEDED, error: "" });
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    expect(result.at).toBeDefined();
    const [request] = hooks.to("/test-target");
    expect(request.body).toMatchObject({ title: "Ping", message: "Is this thing on?", severity: "INFO", tags: { test: "true", channel_id: hook.channelId } });
  });

  it("reports a failed delivery as FAILED with the HTTP status (never the body), once, without retrying", async () => {
    hooks.respond("/broken-test", 503, "service on fire");
    const hook = await channels.create({ name: "broken-test", channelType: Channel_ChannelType.WEBHOOK, options: { url: `${hooks.url}/broken-test` } });
    const result = await channels.test({ channelId: hook.channelId });
    expect(result).toMatchObject({ status: Delivery_Status.FAILED, error: "HTTP 503" });
    expect(hooks.to("/broken-test")).toHaveLength(1);
    const refused = await channels.create({ name: "refused", channelType: Channel_ChannelType.WEBHOOK, options: { url: `http://127.0.0.1:${await closedPort()}/nothing-listens` } });
    expect((await channels.test({ channelId: refused.channelId })).error).toBe("connection failed: could not connect to 127.0.0.1");
    expect(await failure(channels.test({ channelId: "ch-missing" }))).toMatchObject({ code: "ERROR_NOT_FOUND", metadata: { channel_id: "ch-missing" } });
  });

  it("reports a refused SMTP login as FAILED with the server's reply", async () => {
    const secret = await secrets.create({ name: "smtp-wrong", data: { username: SMTP_LOGIN.username, password: secretCanary("wrong_smtp_password") }, workspaceId: "ws-1" });
    const mail = await channels.create({ name: "bad-login", channelType: Channel_ChannelType.EMAIL, options: { host: smtp.host, port: smtp.port, from: "a@company.com", to: ["b@company.com"] }, secretId: secret.secretId });
    const result = await channels.test({ channelId: mail.channelId });
    expect(result.status).toBe(Delivery_Status.FAILED);
    expect(result.error).toMatch(/^SMTP 535/);
  });
});
