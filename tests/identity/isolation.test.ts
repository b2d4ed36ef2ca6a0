// Tenant isolation inside identity: a token of domain B (or of workspace B) gets NOT_FOUND or
// PERMISSION_DENIED for every Get/List/Update/Delete of domain A's (workspace A's) objects, and no
// List leaks them.
import { Code } from "@connectrpc/connect";
import { ApiKeyService } from "@cloudforet/proto/cloudforet/identity/v1/api_key_pb";
import { DomainService } from "@cloudforet/proto/cloudforet/identity/v1/domain_pb";
import { ProjectService } from "@cloudforet/proto/cloudforet/identity/v1/project_pb";
import { SecretService } from "@cloudforet/proto/cloudforet/identity/v1/secret_pb";
import { ServiceAccountService } from "@cloudforet/proto/cloudforet/identity/v1/service_account_pb";
import { RoleBinding_Role, UserService } from "@cloudforet/proto/cloudforet/identity/v1/user_pb";
import { WorkspaceService } from "@cloudforet/proto/cloudforet/identity/v1/workspace_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDomainAdmin, loginAs } from "../support/identity";
import { failure, postJson, startIdentity, str, type IdentityHarness } from "./harness";

let identity: IdentityHarness;
let tokenB: string;
/** Domain A's objects (domain-default). */
const a = { workspace: "ws-shared-name", project: "project-a", user: "alice", account: "sa-a-cluster", secret: "", apiKey: "" };
const SECRET_VALUE = "domain-a-only-9c2e";
const DENIED = [Code.NotFound, Code.PermissionDenied];

const clients = (token: string) => ({
  domains: identity.client(DomainService, token),
  workspaces: identity.client(WorkspaceService, token),
  projects: identity.client(ProjectService, token),
  users: identity.client(UserService, token),
  accounts: identity.client(ServiceAccountService, token),
  secrets: identity.client(SecretService, token),
  keys: identity.client(ApiKeyService, token),
});

async function expectDenied(call: Promise<unknown>, label: string) {
  const err = await failure(call);
  expect(DENIED, `${label}: ${err.code} ${err.message}`).toContain(err.grpcCode);
}

beforeAll(async () => {
  identity = await startIdentity();
  const domainA = clients(identity.adminToken);
  await domainA.workspaces.create({ workspaceId: a.workspace, name: "A" });
  await domainA.projects.create({ projectId: a.project, name: "A project", workspaceId: a.workspace });
  await domainA.users.create({ userId: a.user, password: "Alice-Passw0rd", roleBindings: [{ role: RoleBinding_Role.WORKSPACE_OWNER, workspaceId: a.workspace }] });
  a.secret = (await domainA.secrets.create({ name: "a-creds", workspaceId: a.workspace, data: { password: SECRET_VALUE } })).secretId;
  await domainA.accounts.create({ serviceAccountId: a.account, name: "A cluster", provider: "nutanix", workspaceId: a.workspace, secretId: a.secret, projectId: a.project });
  a.apiKey = (await domainA.keys.create({ userId: a.user, name: "alice-key" })).apiKeyId;

  tokenB = await createDomainAdmin(identity.url, identity.adminToken, "domain-b");
  // Domain B reuses A's ids where ids are per domain, so lookups by id alone would collide.
  const domainB = clients(tokenB);
  await domainB.workspaces.create({ workspaceId: a.workspace, name: "B" });
  await domainB.projects.create({ projectId: "project-b", name: "B project", workspaceId: a.workspace });
});

afterAll(async () => {
  await identity?.close();
});

describe("domain B's admin against domain A's objects", () => {
  it("the domain itself: Get is refused", async () => {
    await expectDenied(clients(tokenB).domains.get({ domainId: "domain-default" }), "DomainService.Get");
    await expectDenied(clients(tokenB).domains.delete({ domainId: "domain-default" }), "DomainService.Delete");
  });

  it("users: Get, Update, Delete, SetPassword and role bindings are NOT_FOUND; List shows none", async () => {
    const users = clients(tokenB).users;
    await expectDenied(users.get({ userId: a.user }), "UserService.Get");
    await expectDenied(users.update({ userId: a.user, name: "pwned" }), "UserService.Update");
    await expectDenied(users.setPassword({ userId: a.user, password: "Pwned-Passw0rd" }), "UserService.SetPassword");
    await expectDenied(users.addRoleBinding({ userId: a.user, role: RoleBinding_Role.DOMAIN_ADMIN }), "UserService.AddRoleBinding");
    await expectDenied(users.removeRoleBinding({ userId: a.user, role: RoleBinding_Role.WORKSPACE_OWNER, workspaceId: a.workspace }), "UserService.RemoveRoleBinding");
    await expectDenied(users.delete({ userId: a.user }), "UserService.Delete");
    const list = await users.list({ query: { filter: [{ k: "user_id", v: str(a.user) }] } });
    expect(list).toMatchObject({ totalCount: 0, results: [] });
    expect((await users.list({})).results.map((u) => u.userId)).toEqual(["admin"]);
    expect((await users.list({})).results.every((u) => u.domainId === "domain-b")).toBe(true);
  });

  it("workspaces and projects: B sees its own namesake, never A's", async () => {
    const b = clients(tokenB);
    expect((await b.workspaces.get({ workspaceId: a.workspace })).name).toBe("B");
    await expectDenied(b.projects.get({ projectId: a.project }), "ProjectService.Get");
    await expectDenied(b.projects.update({ projectId: a.project, name: "pwned" }), "ProjectService.Update");
    await expectDenied(b.projects.delete({ projectId: a.project }), "ProjectService.Delete");
    const projects = await b.projects.list({});
    expect(projects.results.map((p) => p.projectId)).toEqual(["project-b"]);
    expect(projects.totalCount).toBe(1);
    expect((await b.workspaces.list({})).results).toMatchObject([{ workspaceId: a.workspace, name: "B", domainId: "domain-b" }]);
    // A's workspace is still A's.
    expect((await clients(identity.adminToken).workspaces.get({ workspaceId: a.workspace })).name).toBe("A");
  });

  it("secrets: Get, GetData, Set and Delete never reach A's secret; List shows none", async () => {
    const secrets = clients(tokenB).secrets;
    await expectDenied(secrets.get({ secretId: a.secret }), "SecretService.Get");
    await expectDenied(secrets.getData({ secretId: a.secret }), "SecretService.GetData");
    await expectDenied(secrets.getData({ secretId: a.secret, domainId: "domain-default" }), "SecretService.GetData (A's domain_id)");
    await expectDenied(secrets.delete({ secretId: a.secret }), "SecretService.Delete");
    const list = await postJson(identity.url, "SecretService/List", { query: {} }, tokenB);
    expect(list.json).toEqual({ results: [], total_count: 0 });
    // Set by the same name and workspace id creates B's own secret, leaving A's alone.
    const own = await secrets.set({ name: "a-creds", workspaceId: a.workspace, data: { password: "b" } });
    expect(own.created).toBe(true);
    expect(own.secretId).not.toBe(a.secret);
    expect((await clients(identity.adminToken).secrets.getData({ secretId: a.secret })).data).toEqual({ password: SECRET_VALUE });
  });

  it("service accounts: Get, Update, Delete are NOT_FOUND; List shows none", async () => {
    const accounts = clients(tokenB).accounts;
    await expectDenied(accounts.get({ serviceAccountId: a.account }), "ServiceAccountService.Get");
    await expectDenied(accounts.update({ serviceAccountId: a.account, name: "pwned" }), "ServiceAccountService.Update");
    await expectDenied(accounts.delete({ serviceAccountId: a.account }), "ServiceAccountService.Delete");
    expect(await accounts.list({})).toMatchObject({ totalCount: 0, results: [] });
    // Nor can B link A's project or secret to its own account.
    expect(await failure(accounts.create({ name: "x", provider: "nutanix", workspaceId: a.workspace, secretId: a.secret }))).toMatchObject({
      metadata: { parameter: "secret_id" },
    });
    expect(await failure(accounts.create({ name: "x", provider: "nutanix", workspaceId: a.workspace, projectId: a.project }))).toMatchObject({
      metadata: { parameter: "project_id" },
    });
  });

  it("API keys: Get, Revoke, Delete are NOT_FOUND; List shows none; Create for A's user is NOT_FOUND", async () => {
    const keys = clients(tokenB).keys;
    await expectDenied(keys.get({ apiKeyId: a.apiKey }), "ApiKeyService.Get");
    await expectDenied(keys.revoke({ apiKeyId: a.apiKey }), "ApiKeyService.Revoke");
    await expectDenied(keys.delete({ apiKeyId: a.apiKey }), "ApiKeyService.Delete");
    await expectDenied(keys.create({ userId: a.user }), "ApiKeyService.Create");
    expect(await keys.list({})).toMatchObject({ totalCount: 0, results: [] });
  });

  it("A's credentials do not log in to B", async () => {
    expect((await failure(loginAs(identity.url, "domain-b", a.user, "Alice-Passw0rd"))).code).toBe("ERROR_AUTHENTICATE_FAILURE");
  });

  it("after all that, A's objects are untouched", async () => {
    const domainA = clients(identity.adminToken);
    expect((await domainA.users.get({ userId: a.user })).roleBindings).toHaveLength(1);
    expect((await domainA.projects.get({ projectId: a.project })).name).toBe("A project");
    expect((await domainA.accounts.get({ serviceAccountId: a.account })).name).toBe("A cluster");
    expect((await domainA.keys.get({ apiKeyId: a.apiKey })).state).toBe(0);
    await loginAs(identity.url, "domain-default", a.user, "Alice-Passw0rd");
  });
});

describe("workspace isolation inside one domain", () => {
  let memberOfOther: string;

  beforeAll(async () => {
    const domainA = clients(identity.adminToken);
    await domainA.workspaces.create({ workspaceId: "ws-other", name: "Other" });
    await domainA.users.create({ userId: "oscar", password: "Oscar-Passw0rd", roleBindings: [{ role: RoleBinding_Role.WORKSPACE_OWNER, workspaceId: "ws-other" }] });
    memberOfOther = await loginAs(identity.url, "domain-default", "oscar", "Oscar-Passw0rd");
  });

  it("an owner of workspace B gets NOT_FOUND or PERMISSION_DENIED for workspace A's objects and Lists show none", async () => {
    const b = clients(memberOfOther);
    await expectDenied(b.workspaces.get({ workspaceId: a.workspace }), "WorkspaceService.Get");
    await expectDenied(b.workspaces.update({ workspaceId: a.workspace, name: "pwned" }), "WorkspaceService.Update");
    await expectDenied(b.workspaces.delete({ workspaceId: a.workspace }), "WorkspaceService.Delete");
    await expectDenied(b.projects.get({ projectId: a.project }), "ProjectService.Get");
    await expectDenied(b.projects.update({ projectId: a.project, name: "pwned" }), "ProjectService.Update");
    await expectDenied(b.projects.delete({ projectId: a.project }), "ProjectService.Delete");
    await expectDenied(b.accounts.get({ serviceAccountId: a.account }), "ServiceAccountService.Get");
    await expectDenied(b.accounts.update({ serviceAccountId: a.account, name: "pwned" }), "ServiceAccountService.Update");
    await expectDenied(b.accounts.delete({ serviceAccountId: a.account }), "ServiceAccountService.Delete");
    expect(await failure(b.secrets.getData({ secretId: a.secret }))).toMatchObject({ code: "ERROR_PERMISSION_DENIED", message: "Access denied for secret in different workspace" });
    await expectDenied(b.secrets.get({ secretId: a.secret }), "SecretService.Get");
    await expectDenied(b.secrets.delete({ secretId: a.secret }), "SecretService.Delete");
    await expectDenied(b.users.get({ userId: a.user }), "UserService.Get");
    await expectDenied(b.users.addRoleBinding({ userId: "oscar", role: RoleBinding_Role.WORKSPACE_OWNER, workspaceId: a.workspace }), "UserService.AddRoleBinding");
    for (const [name, list] of [
      ["workspaces", b.workspaces.list({})],
      ["projects", b.projects.list({})],
      ["accounts", b.accounts.list({})],
      ["secrets", b.secrets.list({})],
    ] as const) {
      const result = (await list) as { results: { workspaceId?: string }[]; totalCount: number };
      expect(result.results.every((r) => r.workspaceId === "ws-other"), name).toBe(true);
      expect(result.totalCount, name).toBe(result.results.length);
    }
    expect((await b.users.list({})).results.map((u) => u.userId)).toEqual(["oscar"]);
  });
});
