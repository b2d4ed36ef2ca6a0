// Seed 000 §1 "IDENTITY API Examples", request for request, over Connect JSON (the seeds' dialect).
import { setTimeout as sleep } from "node:timers/promises";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { ApiKeyService } from "@cloudforet/proto/cloudforet/identity/v1/api_key_pb";
import { SecretService } from "@cloudforet/proto/cloudforet/identity/v1/secret_pb";
import { RoleBinding_Role, UserService } from "@cloudforet/proto/cloudforet/identity/v1/user_pb";
import { WorkspaceService } from "@cloudforet/proto/cloudforet/identity/v1/workspace_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loginAs } from "../support/identity";
import { failure, startIdentity, type IdentityHarness } from "./harness";

let identity: IdentityHarness;

/** One Connect-protocol JSON call, as `curl -H 'Content-Type: application/json'` makes it. */
async function call(method: string, body: unknown, token?: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${identity.url}/cloudforet.identity.v1.${method}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** The ErrorInfo of a Connect JSON error body: {code, message, details[{debug: ErrorInfo}]}. */
function errorInfo(json: Record<string, unknown>) {
  const details = (json.details ?? []) as { type: string; debug?: { reason: string; metadata: Record<string, string> } }[];
  return details.find((d) => d.type === "google.rpc.ErrorInfo")?.debug;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

beforeAll(async () => {
  identity = await startIdentity();
  const admin = identity.adminToken;
  await identity.client(WorkspaceService, admin).create({ workspaceId: "ws-nutanix", name: "Nutanix" });
  await identity.client(WorkspaceService, admin).create({ workspaceId: "ws-other", name: "Other" });
  // The seed's plugin account: it logs in with a credential as its password.
  await identity.client(UserService, admin).create({
    userId: "plugin-service-account",
    password: "plugin-api-key-12345",
    roleBindings: [{ role: RoleBinding_Role.WORKSPACE_MEMBER, workspaceId: "ws-nutanix" }],
  });
});

afterAll(async () => {
  await identity?.close();
});

describe("Authenticate Plugin (AuthService.Login)", () => {
  it("answers the seed's request with token, expires_at and domain_id (plus refresh_token)", async () => {
    const before = Date.now();
    const { status, json } = await call("AuthService/Login", {
      domain_id: "domain-default",
      user_id: "plugin-service-account",
      password: "plugin-api-key-12345",
    });
    expect(status).toBe(200);
    expect(Object.keys(json).sort()).toEqual(["domain_id", "expires_at", "refresh_token", "token"]);
    expect(json.domain_id).toBe("domain-default");
    expect(json.token).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(json.refresh_token).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(json.expires_at).toMatch(RFC3339);
    const expiresAt = Date.parse(json.expires_at as string);
    expect(expiresAt).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 3600_000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 3600_000);
  });

  it("logs a plugin in with one of its API keys as the password (seed 000)", async () => {
    const key = await identity.client(ApiKeyService, identity.adminToken).create({ userId: "plugin-service-account", name: "nutanix-collector" });
    const { status, json } = await call("AuthService/Login", { domain_id: "domain-default", user_id: "plugin-service-account", password: key.apiKey });
    expect(status).toBe(200);
    expect(json.domain_id).toBe("domain-default");
    const payload = JSON.parse(Buffer.from((json.token as string).split(".")[1], "base64url").toString());
    expect(payload).toMatchObject({ sub: "plugin-service-account", did: "domain-default", akid: key.apiKeyId, typ: "access" });
  });

  it("answers a wrong password or API key with UNAUTHENTICATED ERROR_AUTHENTICATE_FAILURE", async () => {
    for (const password of ["wrong-password", "cfk_not-a-real-key-000000000000000000000000000"]) {
      const { status, json } = await call("AuthService/Login", { domain_id: "domain-default", user_id: "plugin-service-account", password });
      expect(status).toBe(401);
      expect(json.code).toBe("unauthenticated");
      expect(json.message).toBe("Invalid credentials");
      expect(errorInfo(json)?.reason).toBe("ERROR_AUTHENTICATE_FAILURE");
    }
  });

  it("gives an unknown user exactly the same answer as a wrong password (no user enumeration)", async () => {
    const unknown = await call("AuthService/Login", { domain_id: "domain-default", user_id: "nobody-here", password: "plugin-api-key-12345" });
    const wrong = await call("AuthService/Login", { domain_id: "domain-default", user_id: "plugin-service-account", password: "nope-nope-nope" });
    expect(unknown.status).toBe(wrong.status);
    expect(unknown.json.message).toBe(wrong.json.message);
    expect(errorInfo(unknown.json)?.reason).toBe(errorInfo(wrong.json)?.reason);
  });

  // The seed's client also handles NOT_FOUND for a missing domain, but answering it would tell a
  // guesser which domains exist: an unknown domain is just another failed login.
  it("answers an unknown domain like a wrong password: UNAUTHENTICATED ERROR_AUTHENTICATE_FAILURE", async () => {
    const { status, json } = await call("AuthService/Login", { domain_id: "domain-missing", user_id: "plugin-service-account", password: "plugin-api-key-12345" });
    expect(status).toBe(401);
    expect(json.code).toBe("unauthenticated");
    expect(json.message).toBe("Invalid credentials");
    expect(errorInfo(json)?.reason).toBe("ERROR_AUTHENTICATE_FAILURE");
    expect(Object.keys(errorInfo(json)?.metadata ?? {})).toEqual(["request_id"]);
  });

  it("answers a missing field with INVALID_ARGUMENT naming it", async () => {
    for (const [body, parameter] of [
      [{ user_id: "u", password: "p" }, "domain_id"],
      [{ domain_id: "domain-default", password: "p" }, "user_id"],
      [{ domain_id: "domain-default", user_id: "u" }, "password"],
    ] as const) {
      const { status, json } = await call("AuthService/Login", body);
      expect(status).toBe(400);
      expect(errorInfo(json)).toMatchObject({ reason: "ERROR_INVALID_PARAMETER", metadata: { parameter } });
    }
  });
});

describe("Fetch Secret (SecretService.GetData)", () => {
  let secretId: string;
  let pluginToken: string;

  beforeAll(async () => {
    const created = await identity.client(SecretService, identity.adminToken).create({
      name: "nutanix-prism-creds",
      workspaceId: "ws-nutanix",
      data: {
        nutanix_host: "prism.nutanix.local",
        nutanix_username: "admin@nutanix.com",
        nutanix_password: "DecryptedPassword123!",
        nutanix_port: 9440,
        verify_ssl: true,
      },
      tags: { environment: "production", region: "us-east-1" },
    });
    secretId = created.secretId;
    pluginToken = await loginAs(identity.url, "domain-default", "plugin-service-account", "plugin-api-key-12345");
  });

  it("answers the seed's request with exactly the seed's decrypted response", async () => {
    expect(secretId).toMatch(/^secret-[0-9a-f]{12}$/);
    const { status, json } = await call("SecretService/GetData", { secret_id: secretId, domain_id: "domain-default" }, pluginToken);
    expect(status).toBe(200);
    expect(Object.keys(json)).toEqual(["secret_id", "name", "data", "tags", "domain_id", "created_at", "updated_at"]);
    expect(json).toMatchObject({
      secret_id: secretId,
      name: "nutanix-prism-creds",
      data: {
        nutanix_host: "prism.nutanix.local",
        nutanix_username: "admin@nutanix.com",
        nutanix_password: "DecryptedPassword123!",
        nutanix_port: 9440,
        verify_ssl: true,
      },
      tags: { environment: "production", region: "us-east-1" },
      domain_id: "domain-default",
    });
    expect(json.created_at).toMatch(RFC3339);
    expect(json.updated_at).toMatch(RFC3339);
  });

  it("Case 1: a secret that does not exist → ERROR_NOT_FOUND 'Secret not found' with secret_id", async () => {
    const { status, json } = await call("SecretService/GetData", { secret_id: "secret-invalid", domain_id: "domain-default" }, pluginToken);
    expect(status).toBe(404);
    expect(json.message).toBe("Secret not found");
    expect(errorInfo(json)).toMatchObject({ reason: "ERROR_NOT_FOUND", metadata: { secret_id: "secret-invalid" } });
  });

  it("Case 2: a secret of another workspace → ERROR_PERMISSION_DENIED 'Access denied for secret in different workspace'", async () => {
    const other = await identity.client(SecretService, identity.adminToken).create({ name: "other-creds", workspaceId: "ws-other", data: { password: "x" } });
    const { status, json } = await call("SecretService/GetData", { secret_id: other.secretId, domain_id: "domain-default" }, pluginToken);
    expect(status).toBe(403);
    expect(json.message).toBe("Access denied for secret in different workspace");
    expect(errorInfo(json)).toMatchObject({ reason: "ERROR_PERMISSION_DENIED", metadata: { secret_id: other.secretId } });
  });

  it("Case 3: an expired secret → ERROR_INVALID_PARAMETER 'Secret has expired'", async () => {
    const expiring = await identity.client(SecretService, identity.adminToken).create({
      name: "short-lived-creds",
      workspaceId: "ws-nutanix",
      data: { token: "t" },
      expiresAt: timestampFromDate(new Date(Date.now() + 2000)),
    });
    await sleep(2100);
    const { status, json } = await call("SecretService/GetData", { secret_id: expiring.secretId, domain_id: "domain-default" }, pluginToken);
    expect(status).toBe(400);
    expect(json.message).toBe("Secret has expired");
    expect(errorInfo(json)).toMatchObject({ reason: "ERROR_INVALID_PARAMETER", metadata: { secret_id: expiring.secretId } });
  });

  it("refuses a domain_id other than the token's", async () => {
    const err = await failure(identity.client(SecretService, pluginToken).getData({ secretId, domainId: "domain-other" }));
    expect(err).toMatchObject({ code: "ERROR_PERMISSION_DENIED", grpcCode: Code.PermissionDenied, metadata: { secret_id: secretId } });
  });
});
