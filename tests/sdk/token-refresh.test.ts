// Tokens that live two seconds: the SDK refreshes them ahead of expiry, and the caller never notices.
import { RoleBinding_Role } from "@cloudforet/proto/cloudforet/identity/v1/user_pb";
import { Client } from "@cloudforet/sdk/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_PASSWORD, startTestPlatform, type TestPlatform } from "../support/platform";

let platform: TestPlatform;
let apiKey: string;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  platform = await startTestPlatform({ modules: [], env: { IDENTITY_TOKEN_TTL_SECONDS: "2" } });
  // The platform's own admin token lapses in 2 s, so the setup goes through the SDK too.
  const admin = new Client({ password: ADMIN_PASSWORD, userId: "admin", urls: { identity: platform.url("identity") } });
  await admin.identity.users.create({ userId: "sdk-refresh", password: ADMIN_PASSWORD, name: "refresh", roleBindings: [{ role: RoleBinding_Role.DOMAIN_ADMIN }] });
  apiKey = (await admin.identity.apiKeys.create({ userId: "sdk-refresh", name: "refresh" })).apiKey;
  await admin.identity.workspaces.create({ workspaceId: "ws-refresh", name: "Refresh" });
}, 120_000);

afterAll(async () => {
  await platform?.close();
});

describe("token refresh", () => {
  it("keeps calling across several token lifetimes with one login and silent refreshes", async () => {
    const client = new Client({ apiKey, userId: "sdk-refresh", urls: { identity: platform.url("identity") } });
    const started = Date.now();
    let calls = 0;
    while (Date.now() - started < 6_500) {
      const ws = await client.identity.workspaces.get("ws-refresh");
      expect(ws.data.name).toBe("Refresh");
      calls++;
      await sleep(400);
    }
    expect(calls).toBeGreaterThan(10);
    expect(client.session.stats.logins).toBe(1);
    expect(client.session.stats.refreshes).toBeGreaterThanOrEqual(3);
  });

  it("a client idle past its token's expiry renews it on the next call, invisibly", async () => {
    const client = new Client({ apiKey, userId: "sdk-refresh", urls: { identity: platform.url("identity") } });
    await client.identity.workspaces.get("ws-refresh");
    await sleep(2_500);
    expect((await client.identity.workspaces.get("ws-refresh")).data.name).toBe("Refresh");
    expect(client.session.stats.logins + client.session.stats.refreshes).toBe(2);
  });

  it("concurrent calls share one refresh", async () => {
    const client = new Client({ apiKey, userId: "sdk-refresh", urls: { identity: platform.url("identity") } });
    await client.login();
    await sleep(1_700);
    const results = await Promise.all(Array.from({ length: 10 }, () => client.identity.workspaces.get("ws-refresh")));
    expect(results).toHaveLength(10);
    expect(client.session.stats).toEqual({ logins: 1, refreshes: 1 });
  });
});
