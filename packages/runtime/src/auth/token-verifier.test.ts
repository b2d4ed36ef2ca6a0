import http from "node:http";
import type { AddressInfo } from "node:net";
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from "jose";
import { PlatformError } from "@cloudforet/errors";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccessChangeList, RevocationList } from "./access-changes";
import { TOKEN_AUDIENCE, TOKEN_ISSUER } from "./token-claims";
import { bearerToken, createTokenVerifier, remoteKeys } from "./token-verifier";

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

async function signingKey(kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: "EdDSA", use: "sig" } };
}

/** A JWKS endpoint on a real HTTP port, like identity's GET /.well-known/jwks.json. */
let published: JWK[] = [];
let fetches = 0;
const jwksServer = http.createServer((req, res) => {
  fetches++;
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify({ keys: published }));
});
let identityUrl: string;
let current: SigningKey;

beforeAll(async () => {
  current = await signingKey("k1");
  published = [current.jwk];
  await new Promise<void>((resolve) => jwksServer.listen(0, "127.0.0.1", resolve));
  identityUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}`;
});

afterAll(() => new Promise((resolve) => jwksServer.close(resolve)));

const claims = { did: "domain-a", ws: ["ws-1"], roles: [{ role: "WORKSPACE_MEMBER", workspace_id: "ws-1" }], typ: "access" };

function token(key: SigningKey, overrides: Record<string, unknown> = {}, options: { exp?: string | number; iat?: number; aud?: string } = {}) {
  const jwt = new SignJWT({ ...claims, ...overrides })
    .setProtectedHeader({ alg: "EdDSA", kid: key.kid })
    .setIssuer(TOKEN_ISSUER)
    .setAudience(options.aud ?? TOKEN_AUDIENCE)
    .setSubject("user-1")
    .setExpirationTime(options.exp ?? "10m");
  jwt.setIssuedAt(options.iat);
  return jwt.sign(key.privateKey);
}

async function rejection(promise: Promise<unknown>): Promise<PlatformError> {
  const err = await promise.then(() => undefined, (e) => e);
  expect(err).toBeInstanceOf(PlatformError);
  expect((err as PlatformError).code).toBe("ERROR_AUTHENTICATE_FAILURE");
  return err as PlatformError;
}

describe("createTokenVerifier", () => {
  it("turns a valid access token into the caller", async () => {
    const verify = createTokenVerifier(remoteKeys(identityUrl));
    expect(await verify(await token(current, { akid: "key-9" }))).toEqual({
      domainId: "domain-a",
      userId: "user-1",
      workspaceIds: ["ws-1"],
      domainAdmin: false,
      roles: [{ role: "WORKSPACE_MEMBER", workspace_id: "ws-1" }],
      apiKeyId: "key-9",
    });
  });

  it("rejects expired, forged, wrong-audience, refresh and malformed tokens as UNAUTHENTICATED", async () => {
    const verify = createTokenVerifier(remoteKeys(identityUrl));
    const past = Math.floor(Date.now() / 1000) - 3600;
    expect((await rejection(verify(await token(current, {}, { iat: past, exp: past + 60 })))).metadata.reason).toBe("expired");
    const forger = await signingKey("k1"); // same key id, other key
    await rejection(verify(await token(forger)));
    await rejection(verify(await token(current, {}, { aud: "someone-else" })));
    await rejection(verify(await token(current, { typ: "refresh" })));
    await rejection(verify(await token(current, { roles: [{ role: "GOD" }] })));
    await rejection(verify("not.a.jwt"));
  });

  it("keeps verifying with cached keys while identity is unreachable, and learns a rotated key", async () => {
    const verify = createTokenVerifier(remoteKeys(identityUrl, { cooldownMs: 0 }));
    await verify(await token(current));
    const before = fetches;
    published = []; // identity answers nothing useful now
    expect((await verify(await token(current))).userId).toBe("user-1");
    expect(fetches).toBe(before); // no call to identity per request
    const next = await signingKey("k2");
    published = [current.jwk, next.jwk];
    expect((await verify(await token(next))).userId).toBe("user-1"); // unknown kid → refetch
    published = [current.jwk];
  });

  it("refuses tokens of users and API keys revoked by identity's events", async () => {
    const revocations = new RevocationList();
    const verify = createTokenVerifier(remoteKeys(identityUrl), revocations);
    const now = Math.floor(Date.now() / 1000);
    const old = await token(current, {}, { iat: now - 10 });
    revocations.apply("cloudforet.identity.user.deleted", { domain_id: "domain-a", user_id: "user-1", at: new Date((now - 5) * 1000).toISOString() });
    expect((await rejection(verify(old))).metadata.reason).toBe("user's tokens were revoked");
    expect((await verify(await token(current, {}, { iat: now }))).userId).toBe("user-1"); // issued after: fine
    revocations.apply("cloudforet.identity.api_key.revoked", { api_key_id: "key-7" });
    await rejection(verify(await token(current, { akid: "key-7" }, { iat: now })));
    revocations.apply("cloudforet.identity.user.created", { domain_id: "domain-a", user_id: "user-2" }); // not a revocation
    expect((await verify(await token(current, { }, { iat: now }))).userId).toBe("user-1");
  });
});

describe("createTokenVerifier with role changes", () => {
  const at = (seconds: number) => new Date(seconds * 1000).toISOString();

  it("gives a token issued before a role change the user's current bindings", async () => {
    const changes = new AccessChangeList();
    const verify = createTokenVerifier(remoteKeys(identityUrl), changes);
    const now = Math.floor(Date.now() / 1000);
    const admin = await token(current, { ws: [], roles: [{ role: "DOMAIN_ADMIN" }], akid: "key-1" }, { iat: now - 60 });
    expect((await verify(admin)).domainAdmin).toBe(true);
    changes.apply("cloudforet.identity.user.roles_changed", {
      domain_id: "domain-a",
      user_id: "user-1",
      roles: [{ role: "WORKSPACE_OWNER", workspace_id: "ws-2" }, { role: "WORKSPACE_MEMBER", workspace_id: "ws-1" }],
      at: at(now - 30),
    });
    // Still authenticates (an API-key token of the user too), with the smaller rights.
    expect(await verify(admin)).toEqual({
      domainId: "domain-a",
      userId: "user-1",
      workspaceIds: ["ws-1", "ws-2"],
      domainAdmin: false,
      roles: [{ role: "WORKSPACE_OWNER", workspace_id: "ws-2" }, { role: "WORKSPACE_MEMBER", workspace_id: "ws-1" }],
      apiKeyId: "key-1",
    });
  });
});

describe("bearerToken", () => {
  it("reads Authorization: Bearer headers only", () => {
    expect(bearerToken("Bearer abc.def.ghi")).toBe("abc.def.ghi");
    expect(bearerToken("bearer x")).toBe("x");
    expect(bearerToken("Basic abc")).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});
