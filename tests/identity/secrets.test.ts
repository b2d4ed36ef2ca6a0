// SecretService: AES-256-GCM at rest with a key id per row (rotation), metadata-only reads, the
// idempotent Set of seed 001, and validation.
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { SecretService } from "@cloudforet/proto/cloudforet/identity/v1/secret_pb";
import { ServiceAccountService } from "@cloudforet/proto/cloudforet/identity/v1/service_account_pb";
import { RoleBinding_Role, UserService } from "@cloudforet/proto/cloudforet/identity/v1/user_pb";
import { WorkspaceService } from "@cloudforet/proto/cloudforet/identity/v1/workspace_pb";
import { secretCanary } from "@cloudforet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loginAs } from "../support/identity";
import { failure, postJson, secretKeyEntry, startIdentity, str, type IdentityHarness } from "./harness";

let identity: IdentityHarness;
let memberToken: string;
// Canary values (packages/testing): the suite's secrets sweep looks for them in every table and log line.
const PLAINTEXT = secretCanary("nutanix_password");
const MEMBER_PASSWORD = secretCanary("member_password");

const secrets = (token = identity.adminToken) => identity.client(SecretService, token);

/** Every text column of every secret row, the outbox and the signing keys, as stored. */
async function storedText(): Promise<string> {
  const rows = await identity.sql`
    select row_to_json(s)::text as t from identity.secrets s
    union all select payload::text from identity.outbox
    union all select row_to_json(k)::text from identity.signing_keys k`;
  return rows.map((r) => r.t as string).join("\n");
}

beforeAll(async () => {
  identity = await startIdentity({ IDENTITY_SECRET_KEYS: secretKeyEntry("k1") });
  const workspaces = identity.client(WorkspaceService, identity.adminToken);
  await workspaces.create({ workspaceId: "ws-prod", name: "Production" });
  await workspaces.create({ workspaceId: "ws-dev", name: "Development" });
  await identity.client(UserService, identity.adminToken).create({
    userId: "collector",
    password: MEMBER_PASSWORD,
    roleBindings: [{ role: RoleBinding_Role.WORKSPACE_MEMBER, workspaceId: "ws-prod" }],
  });
  memberToken = await loginAs(identity.url, "domain-default", "collector", MEMBER_PASSWORD);
});

afterAll(async () => {
  await identity?.close();
});

describe("encryption at rest", () => {
  it("stores no plaintext: rows hold a key id and AES-GCM ciphertext, events carry no value", async () => {
    const created = await secrets().create({ name: "prism", workspaceId: "ws-prod", data: { nutanix_password: PLAINTEXT, port: 9440 } });
    const [row] = await identity.sql`select key_id, ciphertext from identity.secrets where secret_id = ${created.secretId}`;
    expect(row.key_id).toBe("k1");
    expect(Buffer.from(row.ciphertext as string, "base64").length).toBeGreaterThan(12 + 16);
    expect(await storedText()).not.toContain(PLAINTEXT);
    expect(await storedText()).not.toContain(Buffer.from(PLAINTEXT).toString("base64"));
    expect((await secrets(memberToken).getData({ secretId: created.secretId })).data).toEqual({ nutanix_password: PLAINTEXT, port: 9440 });
  });

  it("a ciphertext copied onto another row does not decrypt there (bound to its secret id)", async () => {
    const a = await secrets().create({ name: "copy-a", workspaceId: "ws-prod", data: { v: "a" } });
    const b = await secrets().create({ name: "copy-b", workspaceId: "ws-prod", data: { v: "b" } });
    await identity.sql`update identity.secrets set ciphertext = (select ciphertext from identity.secrets where secret_id = ${a.secretId}) where secret_id = ${b.secretId}`;
    expect((await failure(secrets().getData({ secretId: b.secretId }))).grpcCode).toBe(Code.Internal);
    await secrets().delete({ secretId: b.secretId });
  });

  it("key rotation: with a new key first, old rows stay readable and new writes use the new key", async () => {
    const old = await secrets().create({ name: "rotated", workspaceId: "ws-prod", data: { password: "before-rotation" } });
    const oldEntry = identity.env.IDENTITY_SECRET_KEYS;
    await identity.restart({ IDENTITY_SECRET_KEYS: `${secretKeyEntry("k2")},${oldEntry}` });

    // Tokens issued before the restart still verify: the signing key survived (re-sealed with k2).
    expect((await secrets(memberToken).getData({ secretId: old.secretId })).data).toEqual({ password: "before-rotation" });
    const [signing] = await identity.sql`select key_id from identity.signing_keys where active`;
    expect(signing.key_id).toBe("k2");

    const fresh = await secrets().create({ name: "after-rotation", workspaceId: "ws-prod", data: { password: "after" } });
    const rows = await identity.sql`select secret_id, key_id from identity.secrets where secret_id in (${old.secretId}, ${fresh.secretId})`;
    expect(Object.fromEntries(rows.map((r) => [r.secret_id, r.key_id]))).toEqual({ [old.secretId]: "k1", [fresh.secretId]: "k2" });

    // Set re-seals with the active key, so old rows migrate as they are written.
    await secrets().set({ name: "rotated", workspaceId: "ws-prod", data: { password: "rewritten" } });
    const [rewritten] = await identity.sql`select key_id from identity.secrets where secret_id = ${old.secretId}`;
    expect(rewritten.key_id).toBe("k2");
    expect((await secrets().getData({ secretId: old.secretId })).data).toEqual({ password: "rewritten" });
  });
});

describe("reads", () => {
  it("Get and List return metadata only, never the value", async () => {
    const created = await secrets().create({
      name: "meta-only",
      workspaceId: "ws-prod",
      data: { api_token: PLAINTEXT },
      tags: { team: "infra" },
      expiresAt: timestampFromDate(new Date(Date.now() + 3600_000)),
    });
    expect(created).toMatchObject({ name: "meta-only", workspaceId: "ws-prod", tags: { team: "infra" }, domainId: "domain-default", serviceAccountId: "" });
    expect(created.expiresAt).toBeDefined();
    for (const [method, body] of [
      ["SecretService/Create", { name: "meta-only-2", workspace_id: "ws-prod", data: { api_token: PLAINTEXT } }],
      ["SecretService/Get", { secret_id: created.secretId }],
      ["SecretService/List", { query: {} }],
      ["SecretService/Set", { name: "meta-only", workspace_id: "ws-prod", data: { api_token: PLAINTEXT } }],
    ] as const) {
      const { status, text, json } = await postJson(identity.url, method, body, identity.adminToken);
      expect(status).toBe(200);
      expect(text).not.toContain(PLAINTEXT);
      expect(json).not.toHaveProperty("data");
    }
  });

  it("List pages with total_count, filters and sorts through the query language, scoped to the caller's workspaces", async () => {
    await secrets().create({ name: "dev-only", workspaceId: "ws-dev", data: { x: "y" } });
    const all = await secrets().list({ query: { sort: { key: "name" } } });
    expect(all.totalCount).toBe(all.results.length);
    expect(all.results.map((s) => s.name)).toEqual([...all.results.map((s) => s.name)].sort());
    const page = await secrets().list({ query: { sort: { key: "name" }, page: { start: 1, limit: 2 } } });
    expect(page.totalCount).toBe(all.totalCount);
    expect(page.results.map((s) => s.name)).toEqual(all.results.slice(1, 3).map((s) => s.name));
    const named = await secrets().list({ query: { filter: [{ k: "name", v: str("dev-only"), o: "eq" }] } });
    expect(named.results.map((s) => s.workspaceId)).toEqual(["ws-dev"]);
    const member = await secrets(memberToken).list({});
    expect(member.results.every((s) => s.workspaceId === "ws-prod")).toBe(true);
    expect(member.totalCount).toBe(all.results.filter((s) => s.workspaceId === "ws-prod").length);
    const bad = await failure(secrets().list({ query: { filter: [{ k: "ciphertext", v: str("x"), o: "eq" }] } }));
    expect(bad).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "query.filter[0]" } });
  });

  it("Get of another workspace's secret is PERMISSION_DENIED; of a missing one NOT_FOUND", async () => {
    const dev = await secrets().create({ name: "dev-get", workspaceId: "ws-dev", data: { x: "y" } });
    expect(await failure(secrets(memberToken).get({ secretId: dev.secretId }))).toMatchObject({
      code: "ERROR_PERMISSION_DENIED",
      message: "Access denied for secret in different workspace",
      metadata: { secret_id: dev.secretId },
    });
    expect(await failure(secrets().get({ secretId: "secret-000000000000" }))).toMatchObject({ code: "ERROR_NOT_FOUND", message: "Secret not found" });
    expect(await failure(secrets().get({ secretId: "" }))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "secret_id" } });
  });
});

describe("Set (seed 001: idempotent upsert by name)", () => {
  it("creates, then replaces the value in place; tags merge; the value is never echoed", async () => {
    const first = await secrets(memberToken).set({ name: "OPENAI_API_KEY", data: { value: "sk-one" }, tags: { a: "1" } });
    expect(first).toMatchObject({ created: true, name: "OPENAI_API_KEY", workspaceId: "ws-prod", tags: { a: "1" } }); // the caller's only workspace
    const second = await secrets(memberToken).set({ name: "OPENAI_API_KEY", data: { value: "sk-two" }, tags: { b: "2" } });
    expect(second).toMatchObject({ created: false, secretId: first.secretId, tags: { a: "1", b: "2" } });
    expect((await secrets(memberToken).getData({ secretId: first.secretId })).data).toEqual({ value: "sk-two" });
    const same = await secrets(memberToken).set({ name: "OPENAI_API_KEY", data: { value: "sk-two" } });
    expect(same).toMatchObject({ created: false, secretId: first.secretId });
    expect((await secrets().list({ query: { filter: [{ k: "name", v: str("OPENAI_API_KEY") }] } })).totalCount).toBe(1);
  });

  it("concurrent first Sets of one name create one secret", async () => {
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => secrets().set({ name: "RACE", workspaceId: "ws-prod", data: { n: i } })));
    expect(new Set(results.map((r) => r.secretId)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
  });

  it("needs workspace_id when the caller has none or several workspaces; may (re)link a service account", async () => {
    expect(await failure(secrets().set({ name: "NO_WS", data: {} }))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "workspace_id" } });
    const account = await identity.client(ServiceAccountService, identity.adminToken).create({ name: "cluster", provider: "nutanix", workspaceId: "ws-prod" });
    const linked = await secrets().set({ name: "LINKED", workspaceId: "ws-prod", data: {}, serviceAccountId: account.serviceAccountId });
    expect(linked.serviceAccountId).toBe(account.serviceAccountId);
    const kept = await secrets().set({ name: "LINKED", workspaceId: "ws-prod", data: { v: 1 } });
    expect(kept.serviceAccountId).toBe(account.serviceAccountId);
    const unlinked = await secrets().set({ name: "LINKED", workspaceId: "ws-prod", data: {}, serviceAccountId: "" });
    expect(unlinked.serviceAccountId).toBe("");
    expect(await failure(secrets().set({ name: "LINKED", workspaceId: "ws-dev", data: {}, serviceAccountId: account.serviceAccountId }))).toMatchObject({
      code: "ERROR_INVALID_PARAMETER",
      metadata: { parameter: "service_account_id" },
    });
  });

  it("writing into a workspace the caller has no role in is PERMISSION_DENIED", async () => {
    expect(await failure(secrets(memberToken).set({ name: "X", workspaceId: "ws-dev", data: {} }))).toMatchObject({ code: "ERROR_PERMISSION_DENIED" });
    expect(await failure(secrets(memberToken).create({ name: "X", workspaceId: "ws-dev", data: {} }))).toMatchObject({ code: "ERROR_PERMISSION_DENIED" });
  });
});

describe("Create validation and Delete", () => {
  it("names the offending field", async () => {
    const cases: [Parameters<ReturnType<typeof secrets>["create"]>[0], string][] = [
      [{ workspaceId: "ws-prod", data: {} }, "name"],
      [{ name: "n1", workspaceId: "ws-prod" }, "data"],
      [{ name: "n2", data: {} }, "workspace_id"],
      [{ name: "n3", workspaceId: "ws-missing", data: {} }, "workspace_id"],
      [{ name: "bad name!", workspaceId: "ws-prod", data: {} }, "name"],
      [{ name: "n4", workspaceId: "ws-prod", data: {}, serviceAccountId: "sa-missing" }, "service_account_id"],
      [{ name: "n5", workspaceId: "ws-prod", data: {}, expiresAt: timestampFromDate(new Date(Date.now() - 60_000)) }, "expires_at"],
      [{ name: "n6", workspaceId: "ws-prod", data: {}, tags: { "bad key!": "v" } }, "tags"],
    ];
    for (const [request, parameter] of cases) {
      expect(await failure(secrets().create(request)), parameter).toMatchObject({ code: "ERROR_INVALID_PARAMETER", grpcCode: Code.InvalidArgument, metadata: { parameter } });
    }
  });

  it("a duplicate name in the workspace is ERROR_CONFLICT; the same name in another workspace is fine", async () => {
    await secrets().create({ name: "dup", workspaceId: "ws-prod", data: {} });
    expect(await failure(secrets().create({ name: "dup", workspaceId: "ws-prod", data: {} }))).toMatchObject({ code: "ERROR_CONFLICT", grpcCode: Code.AlreadyExists });
    await secrets().create({ name: "dup", workspaceId: "ws-dev", data: {} });
  });

  it("deletes; another workspace's secret is PERMISSION_DENIED; a deleted one NOT_FOUND; linked accounts are unlinked", async () => {
    const created = await secrets().create({ name: "to-delete", workspaceId: "ws-dev", data: { x: 1 } });
    const account = await identity.client(ServiceAccountService, identity.adminToken).create({
      name: "dev-cluster",
      provider: "nutanix",
      workspaceId: "ws-dev",
      secretId: created.secretId,
    });
    expect(await failure(secrets(memberToken).delete({ secretId: created.secretId }))).toMatchObject({ code: "ERROR_PERMISSION_DENIED" });
    await secrets().delete({ secretId: created.secretId });
    expect(await failure(secrets().getData({ secretId: created.secretId }))).toMatchObject({ code: "ERROR_NOT_FOUND", metadata: { secret_id: created.secretId } });
    expect(await failure(secrets().delete({ secretId: created.secretId }))).toMatchObject({ code: "ERROR_NOT_FOUND" });
    const after = await identity.client(ServiceAccountService, identity.adminToken).get({ serviceAccountId: account.serviceAccountId });
    expect(after.secretId).toBe("");
  });
});
