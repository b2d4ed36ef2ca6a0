// ApiKeyService: shown once, stored as a hash, revocable, optional expiry; keys log plugins in (seed 000).
import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import type { PlatformEvent } from "@cloudforet/events";
import { ApiKey_State, ApiKeyService } from "@cloudforet/proto/cloudforet/identity/v1/api_key_pb";
import { AuthService } from "@cloudforet/proto/cloudforet/identity/v1/auth_pb";
import { RoleBinding_Role, UserService } from "@cloudforet/proto/cloudforet/identity/v1/user_pb";
import { WorkspaceService } from "@cloudforet/proto/cloudforet/identity/v1/workspace_pb";
import { secretCanary } from "@cloudforet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loginAs } from "../support/identity";
import { collectIdentityEvents, failure, postJson, startIdentity, str, type IdentityHarness } from "./harness";

let identity: IdentityHarness;
let events: PlatformEvent[];
let pluginToken: string;
const PASSWORD = secretCanary("plugin_password"); // the secrets sweep looks for it everywhere

const login = (password: string, userId = "plugin-sa") => identity.client(AuthService).login({ domainId: "domain-default", userId, password });

beforeAll(async () => {
  events = await collectIdentityEvents("identity-api-keys-test");
  identity = await startIdentity();
  await identity.client(WorkspaceService, identity.adminToken).create({ workspaceId: "ws-collect", name: "Collection" });
  const users = identity.client(UserService, identity.adminToken);
  await users.create({ userId: "plugin-sa", password: PASSWORD, roleBindings: [{ role: RoleBinding_Role.WORKSPACE_MEMBER, workspaceId: "ws-collect" }] });
  await users.create({ userId: "key-only-account", roleBindings: [{ role: RoleBinding_Role.WORKSPACE_MEMBER, workspaceId: "ws-collect" }] });
  pluginToken = await loginAs(identity.url, "domain-default", "plugin-sa", PASSWORD);
});

afterAll(async () => {
  await identity?.close();
});

describe("ApiKeyService", () => {
  it("returns the key once; Get, List and the stored row never contain it", async () => {
    const created = await identity.client(ApiKeyService, pluginToken).create({ name: "nutanix-collector" });
    expect(created).toMatchObject({ name: "nutanix-collector", userId: "plugin-sa", state: ApiKey_State.ENABLED, domainId: "domain-default" });
    expect(created.apiKey).toMatch(/^cfk_[A-Za-z0-9_-]{43}$/);
    expect(created.keyPrefix).toBe(created.apiKey.slice(0, 8));
    expect(created.apiKeyId).toMatch(/^apikey-[0-9a-f]{12}$/);

    const got = await postJson(identity.url, "ApiKeyService/Get", { api_key_id: created.apiKeyId }, pluginToken);
    expect(got.status).toBe(200);
    expect(got.text).not.toContain(created.apiKey);
    expect(got.json).not.toHaveProperty("api_key");
    expect(got.json).toMatchObject({ api_key_id: created.apiKeyId, key_prefix: created.keyPrefix, state: "ENABLED" });
    const list = await postJson(identity.url, "ApiKeyService/List", {}, pluginToken);
    expect(list.json.total_count).toBe(1);
    expect(list.text).not.toContain(created.apiKey);

    const rows = await identity.sql`select * from identity.api_keys where api_key_id = ${created.apiKeyId}`;
    expect(rows).toHaveLength(1);
    expect(rows[0].key_hash).toBe(createHash("sha256").update(created.apiKey).digest("hex"));
    expect(JSON.stringify(rows)).not.toContain(created.apiKey);
    const outbox = await identity.sql`select payload::text as payload from identity.outbox`;
    expect(outbox.map((r) => r.payload).join("\n")).not.toContain(created.apiKey);
  });

  it("logs in with the key as the password, records last use, and the token names the key", async () => {
    const created = await identity.client(ApiKeyService, identity.adminToken).create({ userId: "key-only-account", name: "ci" });
    const result = await login(created.apiKey, "key-only-account");
    const claims = JSON.parse(Buffer.from(result.token.split(".")[1], "base64url").toString());
    expect(claims).toMatchObject({ sub: "key-only-account", akid: created.apiKeyId, ws: ["ws-collect"] });
    const got = await identity.client(ApiKeyService, identity.adminToken).get({ apiKeyId: created.apiKeyId });
    expect(got.lastUsedAt).toBeDefined();
    // A key of one user is not a password of another.
    expect((await failure(login(created.apiKey, "plugin-sa"))).code).toBe("ERROR_AUTHENTICATE_FAILURE");
    // A key-only account has no password to guess.
    expect((await failure(login("", "key-only-account"))).metadata.parameter).toBe("password");
  });

  it("a revoked key cannot log in, its tokens stop working, and api_key.revoked is published", async () => {
    const keys = identity.client(ApiKeyService, pluginToken);
    const created = await keys.create({ name: "to-revoke" });
    const keyToken = (await login(created.apiKey)).token;
    await identity.client(UserService, keyToken).get({ userId: "plugin-sa" });

    const revoked = await keys.revoke({ apiKeyId: created.apiKeyId });
    expect(revoked).toMatchObject({ state: ApiKey_State.REVOKED, apiKeyId: created.apiKeyId });
    expect(revoked.revokedAt).toBeDefined();
    const again = await keys.revoke({ apiKeyId: created.apiKeyId }); // idempotent
    expect(again.revokedAt).toEqual(revoked.revokedAt);

    expect(await failure(login(created.apiKey))).toMatchObject({ code: "ERROR_AUTHENTICATE_FAILURE", grpcCode: Code.Unauthenticated, message: "Invalid credentials" });
    expect(await failure(identity.client(UserService, keyToken).get({ userId: "plugin-sa" }))).toMatchObject({ code: "ERROR_AUTHENTICATE_FAILURE" });
    await expect.poll(() => events.filter((e) => e.subject === "cloudforet.identity.api_key.revoked" && (e.data as { api_key_id: string }).api_key_id === created.apiKeyId)).toHaveLength(1);
    const event = events.find((e) => (e.data as { api_key_id?: string }).api_key_id === created.apiKeyId && e.subject.endsWith(".revoked"))!;
    expect(event.domainId).toBe("domain-default");
    expect(event.data).toMatchObject({ domain_id: "domain-default", api_key_id: created.apiKeyId, at: expect.any(String) });
    // Revoked keys stay listed for audit.
    const listed = await keys.list({ query: { filter: [{ k: "state", v: str("REVOKED"), o: "eq" }] } });
    expect(listed.results.map((k) => k.apiKeyId)).toContain(created.apiKeyId);
  });

  it("deleting a key revokes it too", async () => {
    const keys = identity.client(ApiKeyService, pluginToken);
    const created = await keys.create({ name: "to-delete" });
    await login(created.apiKey);
    await keys.delete({ apiKeyId: created.apiKeyId });
    expect((await failure(login(created.apiKey))).code).toBe("ERROR_AUTHENTICATE_FAILURE");
    expect((await failure(keys.get({ apiKeyId: created.apiKeyId }))).code).toBe("ERROR_NOT_FOUND");
    expect((await failure(keys.delete({ apiKeyId: created.apiKeyId }))).code).toBe("ERROR_NOT_FOUND");
    await expect
      .poll(() => events.some((e) => e.subject === "cloudforet.identity.api_key.revoked" && (e.data as { api_key_id: string }).api_key_id === created.apiKeyId))
      .toBe(true);
  });

  it("an expired key fails like a wrong password; an expiry in the past is refused", async () => {
    const keys = identity.client(ApiKeyService, pluginToken);
    const past = await failure(keys.create({ name: "old", expiresAt: timestampFromDate(new Date(Date.now() - 1000)) }));
    expect(past).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "expires_at" } });
    const created = await keys.create({ name: "brief", expiresAt: timestampFromDate(new Date(Date.now() + 2000)) });
    expect(created.expiresAt).toBeDefined();
    await login(created.apiKey);
    await sleep(2100);
    expect(await failure(login(created.apiKey))).toMatchObject({ code: "ERROR_AUTHENTICATE_FAILURE", message: "Invalid credentials" });
  });

  it("users manage their own keys; DOMAIN_ADMIN anyone's", async () => {
    const mine = identity.client(ApiKeyService, pluginToken);
    expect(await failure(mine.create({ userId: "key-only-account", name: "x" }))).toMatchObject({ code: "ERROR_PERMISSION_DENIED", metadata: { user_id: "key-only-account" } });
    const adminKey = await identity.client(ApiKeyService, identity.adminToken).create({ name: "admin-key" });
    expect(adminKey.userId).toBe("admin");
    expect(await failure(mine.get({ apiKeyId: adminKey.apiKeyId }))).toMatchObject({ code: "ERROR_NOT_FOUND", metadata: { api_key_id: adminKey.apiKeyId } });
    expect(await failure(mine.revoke({ apiKeyId: adminKey.apiKeyId }))).toMatchObject({ code: "ERROR_NOT_FOUND" });
    expect(await failure(mine.delete({ apiKeyId: adminKey.apiKeyId }))).toMatchObject({ code: "ERROR_NOT_FOUND" });
    const listed = await mine.list({});
    expect(listed.results.every((k) => k.userId === "plugin-sa")).toBe(true);
    expect(listed.totalCount).toBe(listed.results.length);
    const all = await identity.client(ApiKeyService, identity.adminToken).list({ query: { page: { start: 0, limit: 2 } } });
    expect(all.results).toHaveLength(2);
    expect(all.totalCount).toBeGreaterThan(listed.totalCount);
    expect(await failure(identity.client(ApiKeyService, identity.adminToken).create({ userId: "nobody" }))).toMatchObject({
      code: "ERROR_NOT_FOUND",
      metadata: { user_id: "nobody" },
    });
  });
});
