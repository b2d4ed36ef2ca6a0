// AuthService: the token contract other services verify locally, refresh, rate limiting, and
// revocation (deleted, disabled and re-passworded users) both inside identity and through its events.
import { setTimeout as sleep } from "node:timers/promises";
import { Code } from "@connectrpc/connect";
import { SignJWT, createLocalJWKSet, decodeProtectedHeader, generateKeyPair, jwtVerify, type JWK } from "jose";
import type { PlatformEvent } from "@cloudforet/events";
import { AuthService } from "@cloudforet/proto/cloudforet/identity/v1/auth_pb";
import { RoleBinding_Role, User_State, UserService } from "@cloudforet/proto/cloudforet/identity/v1/user_pb";
import { WorkspaceService } from "@cloudforet/proto/cloudforet/identity/v1/workspace_pb";
import { RevocationList, TOKEN_AUDIENCE, TOKEN_ISSUER, createTokenVerifier, remoteKeys } from "@cloudforet/runtime";
import { secretCanary } from "@cloudforet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loginAs } from "../support/identity";
import { ADMIN_PASSWORD, collectIdentityEvents, failure, startIdentity, type IdentityHarness } from "./harness";

let identity: IdentityHarness;
let events: PlatformEvent[];
const PASSWORD = secretCanary("user_password"); // the secrets sweep looks for it everywhere
const CHANGED_PASSWORD = secretCanary("changed_password");

const payloadOf = (token: string) => JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString()) as Record<string, unknown>;

async function createUser(userId: string, roleBindings: { role: RoleBinding_Role; workspaceId?: string }[] = []) {
  await identity.client(UserService, identity.adminToken).create({ userId, password: PASSWORD, roleBindings: roleBindings.map((b) => ({ workspaceId: "", ...b })) });
  return loginAs(identity.url, "domain-default", userId, PASSWORD);
}

const eventFor = (subject: string, userId: string) =>
  events.find((e) => e.subject === subject && (e.data as { user_id?: string }).user_id === userId);

beforeAll(async () => {
  events = await collectIdentityEvents("identity-auth-test");
  identity = await startIdentity({ IDENTITY_TOKEN_TTL_SECONDS: "900", IDENTITY_REFRESH_TTL_SECONDS: "7200" });
  const workspaces = identity.client(WorkspaceService, identity.adminToken);
  await workspaces.create({ workspaceId: "ws-a", name: "A" });
  await workspaces.create({ workspaceId: "ws-b", name: "B" });
});

afterAll(async () => {
  await identity?.close();
});

describe("the token contract", () => {
  it("signs EdDSA access tokens with kid, issuer, audience, domain, workspaces, roles, type, expiry and id", async () => {
    const token = await createUser("carol", [
      { role: RoleBinding_Role.WORKSPACE_OWNER, workspaceId: "ws-a" },
      { role: RoleBinding_Role.WORKSPACE_MEMBER, workspaceId: "ws-b" },
    ]);
    const header = decodeProtectedHeader(token);
    expect(header.alg).toBe("EdDSA");
    expect(header.kid).toMatch(/^ik-/);
    const claims = payloadOf(token);
    expect(claims).toMatchObject({
      iss: "cloudforet-identity",
      aud: "cloudforet",
      sub: "carol",
      did: "domain-default",
      ws: ["ws-a", "ws-b"],
      typ: "access",
    });
    expect(claims.roles).toEqual(
      expect.arrayContaining([
        { role: "WORKSPACE_OWNER", workspace_id: "ws-a" },
        { role: "WORKSPACE_MEMBER", workspace_id: "ws-b" },
      ]),
    );
    expect(claims.akid).toBeUndefined();
    expect(claims.exp).toBe((claims.iat as number) + 900); // IDENTITY_TOKEN_TTL_SECONDS
    expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(payloadOf(identity.adminToken).roles).toEqual([{ role: "DOMAIN_ADMIN" }]);
  });

  it("gives refresh tokens the same claims with typ refresh and IDENTITY_REFRESH_TTL_SECONDS", async () => {
    const login = await identity.client(AuthService).login({ domainId: "domain-default", userId: "admin", password: ADMIN_PASSWORD });
    const refresh = payloadOf(login.refreshToken);
    expect(refresh).toMatchObject({ iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE, sub: "admin", did: "domain-default", typ: "refresh", roles: [{ role: "DOMAIN_ADMIN" }] });
    expect(refresh.exp).toBe((refresh.iat as number) + 7200);
    expect(Number(login.expiresAt!.seconds)).toBe(payloadOf(login.token).exp);
  });

  it("publishes the public keys by GetJwks and GET /.well-known/jwks.json, and they verify the tokens", async () => {
    const { keys } = await identity.client(AuthService).getJwks({});
    const http = await fetch(`${identity.url}/.well-known/jwks.json`);
    expect(http.status).toBe(200);
    expect(http.headers.get("content-type")).toContain("application/json");
    const body = (await http.json()) as { keys: JWK[] };
    expect(body.keys).toEqual(keys);
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA", use: "sig", kid: decodeProtectedHeader(identity.adminToken).kid });
    expect(keys[0]).not.toHaveProperty("d"); // never the private part
    const { payload } = await jwtVerify(identity.adminToken, createLocalJWKSet(body), { issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE });
    expect(payload.sub).toBe("admin");
  });

  it("is what the runtime's verifier (every other service) accepts", async () => {
    const verify = createTokenVerifier(remoteKeys(identity.url));
    const token = await loginAs(identity.url, "domain-default", "carol", PASSWORD);
    expect(await verify(token)).toEqual({
      domainId: "domain-default",
      userId: "carol",
      workspaceIds: ["ws-a", "ws-b"],
      domainAdmin: false,
      roles: expect.arrayContaining([
        { role: "WORKSPACE_OWNER", workspace_id: "ws-a" },
        { role: "WORKSPACE_MEMBER", workspace_id: "ws-b" },
      ]),
    });
    expect((await verify(identity.adminToken)).domainAdmin).toBe(true);
  });
});

describe("calls without a valid token", () => {
  it("Login, Refresh and GetJwks are open; everything else needs a bearer token", async () => {
    await identity.client(AuthService).getJwks({});
    expect(await failure(identity.client(UserService).list({}))).toMatchObject({ code: "ERROR_AUTHENTICATE_FAILURE", grpcCode: Code.Unauthenticated });
    expect(await failure(identity.client(UserService, "not.a.token").list({}))).toMatchObject({ code: "ERROR_AUTHENTICATE_FAILURE" });
  });

  it("refuses a token signed by another key under identity's key id (forged)", async () => {
    const { privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
    const forged = await new SignJWT({ ...payloadOf(identity.adminToken) })
      .setProtectedHeader({ alg: "EdDSA", kid: decodeProtectedHeader(identity.adminToken).kid })
      .sign(privateKey);
    expect(await failure(identity.client(UserService, forged).list({}))).toMatchObject({ code: "ERROR_AUTHENTICATE_FAILURE", grpcCode: Code.Unauthenticated });
  });

  it("refuses a refresh token used as an access token", async () => {
    const login = await identity.client(AuthService).login({ domainId: "domain-default", userId: "admin", password: ADMIN_PASSWORD });
    expect(await failure(identity.client(UserService, login.refreshToken).list({}))).toMatchObject({ code: "ERROR_AUTHENTICATE_FAILURE" });
  });

  it("refuses an expired token", async () => {
    const shortLived = await startIdentity({ IDENTITY_TOKEN_TTL_SECONDS: "3" });
    try {
      const token = await loginAs(shortLived.url, "domain-default", "admin", ADMIN_PASSWORD);
      await shortLived.client(UserService, token).list({});
      await sleep((payloadOf(token).exp as number) * 1000 - Date.now() + 1100);
      const err = await failure(shortLived.client(UserService, token).list({}));
      expect(err).toMatchObject({ code: "ERROR_AUTHENTICATE_FAILURE", grpcCode: Code.Unauthenticated, metadata: { reason: "expired" } });
    } finally {
      await shortLived.close();
    }
  });

  it("an unsigned token (alg none) is refused", async () => {
    const unsigned = `${Buffer.from(JSON.stringify({ alg: "none" })).toString("base64url")}.${identity.adminToken.split(".")[1]}.`;
    expect(await failure(identity.client(UserService, unsigned).list({}))).toMatchObject({ code: "ERROR_AUTHENTICATE_FAILURE" });
  });
});

describe("Refresh", () => {
  it("exchanges a refresh token once for a new pair; the old one then fails", async () => {
    const auth = identity.client(AuthService);
    const first = await auth.login({ domainId: "domain-default", userId: "admin", password: ADMIN_PASSWORD });
    const second = await auth.refresh({ refreshToken: first.refreshToken });
    expect(second.domainId).toBe("domain-default");
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(payloadOf(second.token)).toMatchObject({ sub: "admin", typ: "access" });
    await identity.client(UserService, second.token).get({ userId: "admin" });
    expect(await failure(auth.refresh({ refreshToken: first.refreshToken }))).toMatchObject({ code: "ERROR_AUTHENTICATE_FAILURE", grpcCode: Code.Unauthenticated });
    // Reuse means the token leaked: the whole chain is revoked, including the rotated token.
    expect(await failure(auth.refresh({ refreshToken: second.refreshToken }))).toMatchObject({ code: "ERROR_AUTHENTICATE_FAILURE" });
  });

  it("refuses access tokens, garbage and a missing token", async () => {
    const auth = identity.client(AuthService);
    expect(await failure(auth.refresh({ refreshToken: identity.adminToken }))).toMatchObject({ code: "ERROR_AUTHENTICATE_FAILURE" });
    expect(await failure(auth.refresh({ refreshToken: "garbage" }))).toMatchObject({ code: "ERROR_AUTHENTICATE_FAILURE" });
    expect(await failure(auth.refresh({ refreshToken: "" }))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "refresh_token" } });
  });

  it("re-reads the user: a deleted or disabled user gets UNAUTHENTICATED", async () => {
    const auth = identity.client(AuthService);
    const users = identity.client(UserService, identity.adminToken);
    await createUser("dave");
    const daveLogin = await auth.login({ domainId: "domain-default", userId: "dave", password: PASSWORD });
    await users.delete({ userId: "dave" });
    expect(await failure(auth.refresh({ refreshToken: daveLogin.refreshToken }))).toMatchObject({ code: "ERROR_AUTHENTICATE_FAILURE" });

    await createUser("erin");
    const erinLogin = await auth.login({ domainId: "domain-default", userId: "erin", password: PASSWORD });
    await users.update({ userId: "erin", state: User_State.DISABLED });
    expect(await failure(auth.refresh({ refreshToken: erinLogin.refreshToken }))).toMatchObject({ code: "ERROR_AUTHENTICATE_FAILURE" });
  });
});

describe("revocation", () => {
  it("a deleted user's token is refused by identity, and user.deleted tells every other service", async () => {
    const token = await createUser("frank");
    await identity.client(UserService, token).get({ userId: "frank" });
    await identity.client(UserService, identity.adminToken).delete({ userId: "frank" });
    expect(await failure(identity.client(UserService, token).get({ userId: "frank" }))).toMatchObject({ code: "ERROR_AUTHENTICATE_FAILURE", grpcCode: Code.Unauthenticated });
    expect(await failure(identity.client(AuthService).login({ domainId: "domain-default", userId: "frank", password: PASSWORD }))).toMatchObject({
      code: "ERROR_AUTHENTICATE_FAILURE",
    });

    await expect.poll(() => eventFor("cloudforet.identity.user.deleted", "frank")).toBeDefined();
    const event = eventFor("cloudforet.identity.user.deleted", "frank")!;
    expect(event.domainId).toBe("domain-default");
    expect(event.data).toEqual({ domain_id: "domain-default", user_id: "frank", at: expect.any(String) });
    // Another service's verifier, fed identity's events, now refuses the token too.
    const revocations = new RevocationList();
    for (const e of events) revocations.apply(e.subject, e.data as Record<string, string>);
    const verify = createTokenVerifier(remoteKeys(identity.url), revocations);
    expect(await verify(identity.adminToken)).toMatchObject({ userId: "admin" });
    await expect(verify(token)).rejects.toMatchObject({ code: "ERROR_AUTHENTICATE_FAILURE" });
  });

  it("a disabled user cannot log in, its tokens stop working, and user.disabled is published", async () => {
    const token = await createUser("gina");
    await identity.client(UserService, identity.adminToken).update({ userId: "gina", state: User_State.DISABLED });
    expect(await failure(identity.client(UserService, token).get({ userId: "gina" }))).toMatchObject({ code: "ERROR_AUTHENTICATE_FAILURE" });
    expect(await failure(identity.client(AuthService).login({ domainId: "domain-default", userId: "gina", password: PASSWORD }))).toMatchObject({
      code: "ERROR_AUTHENTICATE_FAILURE",
      message: "Invalid credentials",
    });
    await expect.poll(() => eventFor("cloudforet.identity.user.disabled", "gina")).toBeDefined();
    expect(eventFor("cloudforet.identity.user.disabled", "gina")!.data).toEqual({ domain_id: "domain-default", user_id: "gina", at: expect.any(String) });
    // Enabled again: logs in, and the new token is good everywhere.
    await identity.client(UserService, identity.adminToken).update({ userId: "gina", state: User_State.ENABLED });
    const fresh = await loginAs(identity.url, "domain-default", "gina", PASSWORD);
    await identity.client(UserService, fresh).get({ userId: "gina" });
  });

  it("a password change ends earlier tokens at once, the new password works at once, and password_changed is published", async () => {
    const token = await createUser("hank");
    const users = identity.client(UserService, token);
    const changed = await users.setPassword({ userId: "hank", password: CHANGED_PASSWORD, currentPassword: PASSWORD });
    expect(changed).toMatchObject({ userId: "hank" });
    expect(changed).not.toHaveProperty("password");
    expect(await failure(users.get({ userId: "hank" }))).toMatchObject({ code: "ERROR_AUTHENTICATE_FAILURE" });
    expect(await failure(identity.client(AuthService).login({ domainId: "domain-default", userId: "hank", password: PASSWORD }))).toMatchObject({
      code: "ERROR_AUTHENTICATE_FAILURE",
    });
    const fresh = await loginAs(identity.url, "domain-default", "hank", CHANGED_PASSWORD);
    await identity.client(UserService, fresh).get({ userId: "hank" });
    await expect.poll(() => eventFor("cloudforet.identity.user.password_changed", "hank")).toBeDefined();
    const event = eventFor("cloudforet.identity.user.password_changed", "hank")!;
    expect(event.data).toEqual({ domain_id: "domain-default", user_id: "hank", at: expect.any(String) });
    // The runtime's revocation rule (iat <= at) refuses the old token and accepts the new one.
    const revocations = new RevocationList();
    revocations.apply(event.subject, event.data as Record<string, string>);
    const verify = createTokenVerifier(remoteKeys(identity.url), revocations);
    await expect(verify(token)).rejects.toMatchObject({ code: "ERROR_AUTHENTICATE_FAILURE" });
    expect((await verify(fresh)).userId).toBe("hank");
  });
});

describe("login rate limit", () => {
  it("after 5 failures from one address a user is refused there with RESOURCE_EXHAUSTED ERROR_RATE_LIMITED and RetryInfo, even with the right password", async () => {
    await createUser("ivan");
    const auth = identity.client(AuthService);
    for (let i = 0; i < 5; i++) {
      expect(await failure(auth.login({ domainId: "domain-default", userId: "ivan", password: `wrong-${i}` }))).toMatchObject({ code: "ERROR_AUTHENTICATE_FAILURE" });
    }
    const limited = await failure(auth.login({ domainId: "domain-default", userId: "ivan", password: PASSWORD }));
    expect(limited).toMatchObject({ code: "ERROR_RATE_LIMITED", grpcCode: Code.ResourceExhausted, metadata: { user_id: "ivan" } });
    expect(limited.retryAfterMs).toBeGreaterThan(0);
    expect(limited.retryAfterMs).toBeLessThanOrEqual(1000); // the first wait; each further failure doubles it
    // Other users are not affected.
    await loginAs(identity.url, "domain-default", "admin", ADMIN_PASSWORD);
  });

  it("limits unknown user ids the same way (no enumeration through the limiter)", async () => {
    const auth = identity.client(AuthService);
    for (let i = 0; i < 5; i++) await failure(auth.login({ domainId: "domain-default", userId: "ghost", password: "whatever-1" }));
    expect((await failure(auth.login({ domainId: "domain-default", userId: "ghost", password: "whatever-1" }))).code).toBe("ERROR_RATE_LIMITED");
  });

  it("opens again when the wait is over, and a success resets the count", async () => {
    const limited = await startIdentity({ IDENTITY_LOGIN_FREE_ATTEMPTS: "2", IDENTITY_LOGIN_BACKOFF_MAX_SECONDS: "5" });
    try {
      const auth = limited.client(AuthService);
      const attempt = (password: string) => auth.login({ domainId: "domain-default", userId: "admin", password });
      await failure(attempt("wrong-one"));
      await attempt(ADMIN_PASSWORD); // resets
      await failure(attempt("wrong-one"));
      await failure(attempt("wrong-two"));
      const err = await failure(attempt(ADMIN_PASSWORD));
      expect(err.code).toBe("ERROR_RATE_LIMITED");
      expect(err.retryAfterMs).toBeLessThanOrEqual(1000);
      await sleep(err.retryAfterMs! + 100);
      expect((await attempt(ADMIN_PASSWORD)).token).toMatch(/^eyJ/);
    } finally {
      await limited.close();
    }
  });
});
