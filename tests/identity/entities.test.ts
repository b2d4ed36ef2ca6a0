// Domains, workspaces, projects, users (with role bindings) and service accounts: CRUD, validation
// naming the field, List through the query language, and what each role may do.
import { Code } from "@connectrpc/connect";
import { DomainService, Domain_State } from "@cloudforet/proto/cloudforet/identity/v1/domain_pb";
import { ProjectService } from "@cloudforet/proto/cloudforet/identity/v1/project_pb";
import { ServiceAccountService } from "@cloudforet/proto/cloudforet/identity/v1/service_account_pb";
import { SecretService } from "@cloudforet/proto/cloudforet/identity/v1/secret_pb";
import { RoleBinding_Role, User_State, UserService } from "@cloudforet/proto/cloudforet/identity/v1/user_pb";
import { WorkspaceService, Workspace_State } from "@cloudforet/proto/cloudforet/identity/v1/workspace_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDomainAdmin, loginAs } from "../support/identity";
import { failure, postJson, startIdentity, str, type IdentityHarness } from "./harness";

let identity: IdentityHarness;
let ownerToken: string;
let memberToken: string;
const PASSWORD = "Team-Passw0rd!";

const as = (token: string) => ({
  domains: identity.client(DomainService, token),
  workspaces: identity.client(WorkspaceService, token),
  projects: identity.client(ProjectService, token),
  users: identity.client(UserService, token),
  accounts: identity.client(ServiceAccountService, token),
  secrets: identity.client(SecretService, token),
});
const admin = () => as(identity.adminToken);

beforeAll(async () => {
  identity = await startIdentity();
  await admin().workspaces.create({ workspaceId: "ws-platform", name: "Platform", tags: { team: "sre" } });
  await admin().workspaces.create({ workspaceId: "ws-data", name: "Data" });
  await admin().users.create({ userId: "olivia", password: PASSWORD, roleBindings: [{ role: RoleBinding_Role.WORKSPACE_OWNER, workspaceId: "ws-platform" }] });
  await admin().users.create({ userId: "mike", password: PASSWORD, roleBindings: [{ role: RoleBinding_Role.WORKSPACE_MEMBER, workspaceId: "ws-platform" }] });
  ownerToken = await loginAs(identity.url, "domain-default", "olivia", PASSWORD);
  memberToken = await loginAs(identity.url, "domain-default", "mike", PASSWORD);
});

afterAll(async () => {
  await identity?.close();
});

describe("DomainService", () => {
  it("domain-default exists from the first start; any caller reads its own domain", async () => {
    expect(await admin().domains.get({ domainId: "domain-default" })).toMatchObject({ domainId: "domain-default", state: Domain_State.ENABLED });
    expect((await as(memberToken).domains.get({ domainId: "" })).domainId).toBe("domain-default");
  });

  it("the platform admin creates, lists and deletes domains; others are PERMISSION_DENIED", async () => {
    const created = await admin().domains.create({ domainId: "domain-acme", name: "ACME", tags: { tier: "gold" } });
    expect(created).toMatchObject({ domainId: "domain-acme", name: "ACME", state: Domain_State.ENABLED, tags: { tier: "gold" } });
    const generated = await admin().domains.create({ name: "Generated" });
    expect(generated.domainId).toMatch(/^domain-[0-9a-f]{12}$/);
    expect(await failure(admin().domains.create({ domainId: "domain-acme", name: "again" }))).toMatchObject({ code: "ERROR_CONFLICT", grpcCode: Code.AlreadyExists });
    expect(await failure(admin().domains.create({ domainId: "domain-x" }))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "name" } });
    expect(await failure(admin().domains.create({ domainId: "bad id!", name: "x" }))).toMatchObject({ metadata: { parameter: "domain_id" } });
    expect(await failure(admin().domains.create({ domainId: "domain-y", name: "y", adminUserId: "root", adminPassword: "short" }))).toMatchObject({
      metadata: { parameter: "admin_password" },
    });
    const list = await admin().domains.list({ query: { filter: [{ k: "domain_id", v: str("domain-acme") }] } });
    expect(list).toMatchObject({ totalCount: 1, results: [{ domainId: "domain-acme" }] });
    expect((await admin().domains.list({ query: { page: { limit: 1 } } })).totalCount).toBe(3);
    expect(await failure(as(ownerToken).domains.create({ name: "mine" }))).toMatchObject({ code: "ERROR_PERMISSION_DENIED" });
    expect(await failure(as(ownerToken).domains.list({}))).toMatchObject({ code: "ERROR_PERMISSION_DENIED" });
    expect(await failure(as(ownerToken).domains.get({ domainId: "domain-acme" }))).toMatchObject({ code: "ERROR_PERMISSION_DENIED" });
    await admin().domains.delete({ domainId: generated.domainId });
    expect(await failure(admin().domains.get({ domainId: generated.domainId }))).toMatchObject({ code: "ERROR_NOT_FOUND", metadata: { domain_id: generated.domainId } });
    expect(await failure(admin().domains.delete({ domainId: "domain-default" }))).toMatchObject({ code: "ERROR_CONFLICT", grpcCode: Code.FailedPrecondition });
  });

  it("a domain's first admin (admin_user_id) logs in to it and administers only it; the domain's delete ends its logins", async () => {
    const token = await createDomainAdmin(identity.url, identity.adminToken, "domain-tenant");
    const tenant = as(token);
    expect((await tenant.domains.get({})).domainId).toBe("domain-tenant");
    expect(await failure(tenant.domains.list({}))).toMatchObject({ code: "ERROR_PERMISSION_DENIED" });
    await tenant.workspaces.create({ workspaceId: "ws-platform", name: "Same id, other tenant" });
    expect((await tenant.workspaces.list({})).results.map((w) => w.domainId)).toEqual(["domain-tenant"]);
    await admin().domains.delete({ domainId: "domain-tenant" });
    expect(await failure(tenant.workspaces.list({}))).toMatchObject({ code: "ERROR_AUTHENTICATE_FAILURE" });
    // A deleted domain answers like any bad credentials (no domain enumeration through Login).
    expect(await failure(loginAs(identity.url, "domain-tenant", "admin", "Domain-Admin-Passw0rd"))).toMatchObject({ code: "ERROR_AUTHENTICATE_FAILURE" });
  });
});

describe("WorkspaceService", () => {
  it("creates with a chosen or generated id; validates; refuses duplicates", async () => {
    const generated = await admin().workspaces.create({ name: "Scratch" });
    expect(generated.workspaceId).toMatch(/^workspace-[0-9a-f]{12}$/);
    expect(generated).toMatchObject({ name: "Scratch", state: Workspace_State.ENABLED, domainId: "domain-default" });
    expect(await failure(admin().workspaces.create({ workspaceId: "ws-platform", name: "x" }))).toMatchObject({ code: "ERROR_CONFLICT" });
    expect(await failure(admin().workspaces.create({ workspaceId: "ws-new" }))).toMatchObject({ metadata: { parameter: "name" } });
    expect(await failure(admin().workspaces.create({ workspaceId: "ws new", name: "x" }))).toMatchObject({ metadata: { parameter: "workspace_id" } });
    await admin().workspaces.delete({ workspaceId: generated.workspaceId });
  });

  it("Get and List show only the caller's workspaces (all for DOMAIN_ADMIN)", async () => {
    expect((await admin().workspaces.list({})).results.map((w) => w.workspaceId)).toEqual(["ws-data", "ws-platform"]);
    const mine = await as(memberToken).workspaces.list({});
    expect(mine).toMatchObject({ totalCount: 1, results: [{ workspaceId: "ws-platform" }] });
    expect(await failure(as(memberToken).workspaces.get({ workspaceId: "ws-data" }))).toMatchObject({ code: "ERROR_NOT_FOUND", metadata: { workspace_id: "ws-data" } });
  });

  it("Update changes only what is set and merges tags; owners may, members may not", async () => {
    const updated = await as(ownerToken).workspaces.update({ workspaceId: "ws-platform", tags: { env: "prod" }, removeTags: ["team"] });
    expect(updated).toMatchObject({ name: "Platform", tags: { env: "prod" } });
    expect(await failure(as(memberToken).workspaces.update({ workspaceId: "ws-platform", name: "Mine" }))).toMatchObject({ code: "ERROR_PERMISSION_DENIED" });
    expect(await failure(as(ownerToken).workspaces.create({ name: "nope" }))).toMatchObject({ code: "ERROR_PERMISSION_DENIED" });
    expect(await failure(as(ownerToken).workspaces.delete({ workspaceId: "ws-platform" }))).toMatchObject({ code: "ERROR_PERMISSION_DENIED" });
    expect(await failure(admin().workspaces.update({ workspaceId: "ws-platform", state: 7 as Workspace_State }))).toMatchObject({ metadata: { parameter: "state" } });
  });

  it("a disabled workspace still reads but refuses writes; a workspace holding projects cannot be deleted", async () => {
    await admin().workspaces.create({ workspaceId: "ws-frozen", name: "Frozen" });
    await admin().projects.create({ projectId: "project-frozen", name: "P", workspaceId: "ws-frozen" });
    await admin().workspaces.update({ workspaceId: "ws-frozen", state: Workspace_State.DISABLED });
    expect((await admin().projects.get({ projectId: "project-frozen" })).name).toBe("P");
    expect(await failure(admin().projects.create({ name: "Q", workspaceId: "ws-frozen" }))).toMatchObject({ code: "ERROR_PERMISSION_DENIED" });
    expect(await failure(admin().secrets.create({ name: "s", workspaceId: "ws-frozen", data: {} }))).toMatchObject({ code: "ERROR_PERMISSION_DENIED" });
    expect(await failure(admin().workspaces.delete({ workspaceId: "ws-frozen" }))).toMatchObject({ code: "ERROR_CONFLICT", grpcCode: Code.FailedPrecondition });
    await admin().workspaces.update({ workspaceId: "ws-frozen", state: Workspace_State.ENABLED });
    await admin().projects.delete({ projectId: "project-frozen" });
    await admin().workspaces.delete({ workspaceId: "ws-frozen" });
    expect(await failure(admin().workspaces.get({ workspaceId: "ws-frozen" }))).toMatchObject({ code: "ERROR_NOT_FOUND" });
  });
});

describe("ProjectService", () => {
  it("owners and admins write, members read; unknown workspace is INVALID_ARGUMENT", async () => {
    const created = await as(ownerToken).projects.create({ projectId: "project-prod-001", name: "Prod", workspaceId: "ws-platform", tags: { env: "prod" } });
    expect(created).toMatchObject({ projectId: "project-prod-001", workspaceId: "ws-platform", domainId: "domain-default", tags: { env: "prod" } });
    expect((await as(memberToken).projects.get({ projectId: "project-prod-001" })).name).toBe("Prod");
    expect(await failure(as(memberToken).projects.create({ name: "x", workspaceId: "ws-platform" }))).toMatchObject({ code: "ERROR_PERMISSION_DENIED" });
    expect(await failure(as(memberToken).projects.update({ projectId: "project-prod-001", name: "x" }))).toMatchObject({ code: "ERROR_PERMISSION_DENIED" });
    expect(await failure(as(memberToken).projects.delete({ projectId: "project-prod-001" }))).toMatchObject({ code: "ERROR_PERMISSION_DENIED" });
    expect(await failure(as(ownerToken).projects.create({ name: "x", workspaceId: "ws-data" }))).toMatchObject({ code: "ERROR_PERMISSION_DENIED" });
    expect(await failure(admin().projects.create({ name: "x", workspaceId: "ws-nope" }))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "workspace_id" } });
    expect(await failure(admin().projects.create({ name: "x" }))).toMatchObject({ metadata: { parameter: "workspace_id" } });
    expect(await failure(admin().projects.create({ workspaceId: "ws-platform" }))).toMatchObject({ metadata: { parameter: "name" } });
    expect(await failure(admin().projects.create({ projectId: "project-prod-001", name: "x", workspaceId: "ws-platform" }))).toMatchObject({ code: "ERROR_CONFLICT" });
    const updated = await as(ownerToken).projects.update({ projectId: "project-prod-001", name: "Production", tags: { tier: "1" } });
    expect(updated).toMatchObject({ name: "Production", tags: { env: "prod", tier: "1" } });
  });

  it("a project of a workspace the caller cannot see is NOT_FOUND, and List shows only visible ones", async () => {
    await admin().projects.create({ projectId: "project-data", name: "Data", workspaceId: "ws-data" });
    expect(await failure(as(memberToken).projects.get({ projectId: "project-data" }))).toMatchObject({ code: "ERROR_NOT_FOUND", metadata: { project_id: "project-data" } });
    const visible = await as(memberToken).projects.list({});
    expect(visible.results.map((p) => p.projectId)).toEqual(["project-prod-001"]);
    expect(visible.totalCount).toBe(1);
    expect(await admin().projects.list({ query: { countOnly: true } })).toMatchObject({ results: [], totalCount: 2 });
    const counted = await postJson(identity.url, "ProjectService/List", { query: { count_only: true } }, identity.adminToken);
    expect(counted.json).toEqual({ results: [], total_count: 2 });
  });
});

describe("UserService", () => {
  it("creates users with role bindings and never returns a password", async () => {
    const res = await postJson(
      identity.url,
      "UserService/Create",
      { user_id: "plugin-service-account", name: "Plugin", email: "plugin@example.com", role_bindings: [{ role: "WORKSPACE_MEMBER", workspace_id: "ws-data" }], tags: { kind: "plugin" } },
      identity.adminToken,
    );
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      user_id: "plugin-service-account",
      name: "Plugin",
      email: "plugin@example.com",
      state: "ENABLED",
      role_bindings: [{ role: "WORKSPACE_MEMBER", workspace_id: "ws-data" }],
      tags: { kind: "plugin" },
      domain_id: "domain-default",
    });
    expect(res.json).not.toHaveProperty("password");
    expect(res.json).not.toHaveProperty("last_login_at");
    const [row] = await identity.sql`select password_hash from identity.users where user_id = 'olivia'`;
    expect(row.password_hash).toMatch(/^scrypt\$\d+\$\d+\$\d+\$/);
    expect(row.password_hash).not.toContain(PASSWORD);
  });

  it("validates user ids, passwords and role bindings, naming the field", async () => {
    const users = admin().users;
    expect(await failure(users.create({}))).toMatchObject({ metadata: { parameter: "user_id" } });
    expect(await failure(users.create({ userId: "bad id" }))).toMatchObject({ metadata: { parameter: "user_id" } });
    expect(await failure(users.create({ userId: "short", password: "1234567" }))).toMatchObject({ metadata: { parameter: "password" } });
    expect(await failure(users.create({ userId: "r1", roleBindings: [{ role: RoleBinding_Role.NONE, workspaceId: "" }] }))).toMatchObject({
      metadata: { parameter: "role_bindings[0].role" },
    });
    expect(await failure(users.create({ userId: "r2", roleBindings: [{ role: RoleBinding_Role.DOMAIN_ADMIN, workspaceId: "ws-data" }] }))).toMatchObject({
      metadata: { parameter: "role_bindings[0].workspace_id" },
    });
    expect(await failure(users.create({ userId: "r3", roleBindings: [{ role: RoleBinding_Role.WORKSPACE_OWNER, workspaceId: "" }] }))).toMatchObject({
      metadata: { parameter: "role_bindings[0].workspace_id" },
    });
    expect(await failure(users.create({ userId: "r4", roleBindings: [{ role: RoleBinding_Role.WORKSPACE_OWNER, workspaceId: "ws-nope" }] }))).toMatchObject({
      metadata: { parameter: "role_bindings[0].workspace_id" },
    });
    expect(await failure(users.create({ userId: "e1", email: "not-an-email" }))).toMatchObject({ metadata: { parameter: "email" } });
    expect(await failure(users.create({ userId: "olivia" }))).toMatchObject({ code: "ERROR_CONFLICT" });
  });

  it("List pages with total_count and shows non-admins only themselves and their workspaces' users", async () => {
    const all = await admin().users.list({ query: { page: { start: 0, limit: 2 } } });
    expect(all.results).toHaveLength(2);
    expect(all.totalCount).toBe(4); // admin, mike, olivia, plugin-service-account
    expect(all.results[0].roleBindings.length).toBeGreaterThan(0);
    const seen = await as(memberToken).users.list({});
    expect(seen.results.map((u) => u.userId).sort()).toEqual(["mike", "olivia"]);
    expect(await failure(as(memberToken).users.get({ userId: "plugin-service-account" }))).toMatchObject({ code: "ERROR_NOT_FOUND" });
    expect((await as(memberToken).users.get({ userId: "mike" })).lastLoginAt).toBeDefined();
    const trimmed = await admin().users.list({ query: { only: ["user_id"], filter: [{ k: "user_id", v: str("mike") }] } });
    expect(trimmed.results).toMatchObject([{ userId: "mike", name: "" }]);
  });

  it("only DOMAIN_ADMIN updates and deletes users; a WORKSPACE_OWNER manages its workspace's bindings", async () => {
    expect(await failure(as(ownerToken).users.update({ userId: "mike", name: "M" }))).toMatchObject({ code: "ERROR_PERMISSION_DENIED" });
    expect(await failure(as(ownerToken).users.delete({ userId: "mike" }))).toMatchObject({ code: "ERROR_PERMISSION_DENIED" });
    const updated = await admin().users.update({ userId: "mike", name: "Mike", email: "mike@example.com", tags: { a: "1" } });
    expect(updated).toMatchObject({ name: "Mike", email: "mike@example.com", tags: { a: "1" }, state: User_State.ENABLED });

    const promoted = await as(ownerToken).users.addRoleBinding({ userId: "plugin-service-account", role: RoleBinding_Role.WORKSPACE_MEMBER, workspaceId: "ws-platform" });
    expect(promoted.roleBindings.map((b) => b.workspaceId).sort()).toEqual(["ws-data", "ws-platform"]);
    const again = await as(ownerToken).users.addRoleBinding({ userId: "plugin-service-account", role: RoleBinding_Role.WORKSPACE_MEMBER, workspaceId: "ws-platform" });
    expect(again.roleBindings).toHaveLength(2); // idempotent
    expect(await failure(as(ownerToken).users.addRoleBinding({ userId: "mike", role: RoleBinding_Role.WORKSPACE_OWNER, workspaceId: "ws-data" }))).toMatchObject({
      code: "ERROR_PERMISSION_DENIED",
    });
    expect(await failure(as(ownerToken).users.addRoleBinding({ userId: "mike", role: RoleBinding_Role.DOMAIN_ADMIN }))).toMatchObject({ code: "ERROR_PERMISSION_DENIED" });
    expect(await failure(as(memberToken).users.addRoleBinding({ userId: "mike", role: RoleBinding_Role.WORKSPACE_OWNER, workspaceId: "ws-platform" }))).toMatchObject({
      code: "ERROR_PERMISSION_DENIED",
    });
    expect(await failure(admin().users.addRoleBinding({ userId: "nobody", role: RoleBinding_Role.WORKSPACE_MEMBER, workspaceId: "ws-data" }))).toMatchObject({
      code: "ERROR_NOT_FOUND",
    });
    const removed = await as(ownerToken).users.removeRoleBinding({ userId: "plugin-service-account", role: RoleBinding_Role.WORKSPACE_MEMBER, workspaceId: "ws-platform" });
    expect(removed.roleBindings.map((b) => b.workspaceId)).toEqual(["ws-data"]);
    expect(await failure(as(ownerToken).users.removeRoleBinding({ userId: "plugin-service-account", role: RoleBinding_Role.WORKSPACE_MEMBER, workspaceId: "ws-platform" }))).toMatchObject({
      code: "ERROR_NOT_FOUND",
    });
  });

  it("role changes apply to identity at once, without a new token", async () => {
    const users = admin().users;
    await users.addRoleBinding({ userId: "mike", role: RoleBinding_Role.WORKSPACE_OWNER, workspaceId: "ws-data" });
    await as(memberToken).projects.create({ projectId: "project-by-mike", name: "M", workspaceId: "ws-data" });
    await users.removeRoleBinding({ userId: "mike", role: RoleBinding_Role.WORKSPACE_OWNER, workspaceId: "ws-data" });
    expect(await failure(as(memberToken).projects.get({ projectId: "project-by-mike" }))).toMatchObject({ code: "ERROR_NOT_FOUND" });
  });

  it("never removes the domain's last DOMAIN_ADMIN", async () => {
    const users = admin().users;
    expect(await failure(users.delete({ userId: "admin" }))).toMatchObject({ code: "ERROR_CONFLICT", grpcCode: Code.FailedPrecondition });
    expect(await failure(users.removeRoleBinding({ userId: "admin", role: RoleBinding_Role.DOMAIN_ADMIN }))).toMatchObject({ grpcCode: Code.FailedPrecondition });
    expect(await failure(users.update({ userId: "admin", state: User_State.DISABLED }))).toMatchObject({ grpcCode: Code.FailedPrecondition });
    await users.create({ userId: "second-admin", password: PASSWORD, roleBindings: [{ role: RoleBinding_Role.DOMAIN_ADMIN, workspaceId: "" }] });
    const second = await loginAs(identity.url, "domain-default", "second-admin", PASSWORD);
    await as(second).users.delete({ userId: "second-admin" }); // another admin remains
    expect(await failure(users.get({ userId: "second-admin" }))).toMatchObject({ code: "ERROR_NOT_FOUND" });
  });

  it("SetPassword: users prove their current password; admins need not; others are refused", async () => {
    await admin().users.create({ userId: "paula", password: PASSWORD, roleBindings: [{ role: RoleBinding_Role.WORKSPACE_MEMBER, workspaceId: "ws-data" }] });
    const self = as(await loginAs(identity.url, "domain-default", "paula", PASSWORD)).users;
    expect(await failure(self.setPassword({ userId: "paula", password: "N3w-Passw0rd" }))).toMatchObject({ metadata: { parameter: "current_password" } });
    expect(await failure(self.setPassword({ userId: "paula", password: "N3w-Passw0rd", currentPassword: "wrong-one" }))).toMatchObject({
      code: "ERROR_AUTHENTICATE_FAILURE",
    });
    expect(await failure(self.setPassword({ userId: "paula", password: "short", currentPassword: PASSWORD }))).toMatchObject({ metadata: { parameter: "password" } });
    expect(await failure(as(ownerToken).users.setPassword({ userId: "mike", password: "N3w-Passw0rd", currentPassword: PASSWORD }))).toMatchObject({
      code: "ERROR_PERMISSION_DENIED",
    });
    await admin().users.setPassword({ userId: "paula", password: "Reset-Passw0rd" });
    await loginAs(identity.url, "domain-default", "paula", "Reset-Passw0rd");
  });
});

describe("ServiceAccountService", () => {
  it("creates provider accounts with client-chosen ids, linked to a project and a secret of their workspace", async () => {
    const secret = await admin().secrets.create({ name: "prism-creds", workspaceId: "ws-platform", data: { password: "x" } });
    const created = await as(memberToken).accounts.create({
      serviceAccountId: "sa-prod-cluster-01",
      name: "Prod cluster 01",
      provider: "nutanix",
      data: { endpoint: "https://prism.example:9440", cluster: "prod-01" },
      tags: { env: "prod" },
      projectId: "project-prod-001",
      workspaceId: "ws-platform",
      secretId: secret.secretId,
    });
    expect(created).toMatchObject({
      serviceAccountId: "sa-prod-cluster-01",
      provider: "nutanix",
      data: { endpoint: "https://prism.example:9440", cluster: "prod-01" },
      projectId: "project-prod-001",
      workspaceId: "ws-platform",
      secretId: secret.secretId,
      domainId: "domain-default",
    });
    const generated = await admin().accounts.create({ name: "AWS", provider: "aws", workspaceId: "ws-data" });
    expect(generated.serviceAccountId).toMatch(/^sa-[0-9a-f]{12}$/);
    expect(await failure(admin().accounts.create({ serviceAccountId: "sa-prod-cluster-01", name: "x", provider: "nutanix", workspaceId: "ws-platform" }))).toMatchObject({
      code: "ERROR_CONFLICT",
    });
  });

  it("names the offending parameter", async () => {
    const base = { name: "n", provider: "nutanix", workspaceId: "ws-platform" };
    const cases: [Record<string, unknown>, string][] = [
      [{ ...base, name: "" }, "name"],
      [{ ...base, provider: "" }, "provider"],
      [{ ...base, provider: "Nutanix Cloud" }, "provider"],
      [{ ...base, workspaceId: "" }, "workspace_id"],
      [{ ...base, workspaceId: "ws-nope" }, "workspace_id"],
      [{ ...base, projectId: "project-data" }, "project_id"], // a project of another workspace
      [{ ...base, secretId: "secret-missing" }, "secret_id"],
      [{ ...base, serviceAccountId: "sa/with/slashes" }, "service_account_id"],
    ];
    for (const [request, parameter] of cases) {
      expect(await failure(admin().accounts.create(request)), parameter).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter } });
    }
  });

  it("updates only what is set: data is replaced, tags merge, project and secret detach with empty strings", async () => {
    const updated = await as(memberToken).accounts.update({ serviceAccountId: "sa-prod-cluster-01", data: { cluster: "prod-01b" }, tags: { owner: "sre" } });
    expect(updated).toMatchObject({ name: "Prod cluster 01", data: { cluster: "prod-01b" }, tags: { env: "prod", owner: "sre" }, projectId: "project-prod-001" });
    const detached = await admin().accounts.update({ serviceAccountId: "sa-prod-cluster-01", projectId: "", secretId: "" });
    expect(detached).toMatchObject({ projectId: "", secretId: "" });
    expect(await failure(admin().accounts.update({ serviceAccountId: "sa-prod-cluster-01", projectId: "project-data" }))).toMatchObject({ metadata: { parameter: "project_id" } });
    expect(await failure(admin().accounts.update({ serviceAccountId: "sa-missing", name: "x" }))).toMatchObject({ code: "ERROR_NOT_FOUND" });
  });

  it("is NOT_FOUND outside the caller's workspaces, lists only visible accounts, and deletes", async () => {
    const dataAccount = (await admin().accounts.list({ query: { filter: [{ k: "workspace_id", v: str("ws-data") }] } })).results[0];
    expect(await failure(as(memberToken).accounts.get({ serviceAccountId: dataAccount.serviceAccountId }))).toMatchObject({ code: "ERROR_NOT_FOUND" });
    expect(await failure(as(memberToken).accounts.delete({ serviceAccountId: dataAccount.serviceAccountId }))).toMatchObject({ code: "ERROR_NOT_FOUND" });
    const visible = await as(memberToken).accounts.list({ query: { filter: [{ k: "data.cluster", v: str("prod-01b") }] } });
    expect(visible).toMatchObject({ totalCount: 1, results: [{ serviceAccountId: "sa-prod-cluster-01" }] });
    await as(memberToken).accounts.delete({ serviceAccountId: "sa-prod-cluster-01" });
    expect(await failure(admin().accounts.get({ serviceAccountId: "sa-prod-cluster-01" }))).toMatchObject({ code: "ERROR_NOT_FOUND" });
  });
});
