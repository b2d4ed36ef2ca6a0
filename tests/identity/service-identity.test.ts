// ServiceIdentityService: the platform's own principal in a workspace, granted by an owner to a
// trusted service (inventory), minting short-lived tokens that outlive the granting user.
import { decodeJwt } from "jose";
import { ServiceAccountService } from "@cloudforet/proto/cloudforet/identity/v1/service_account_pb";
import { ServiceIdentity_State, ServiceIdentityService } from "@cloudforet/proto/cloudforet/identity/v1/service_identity_pb";
import { RoleBinding_Role, UserService } from "@cloudforet/proto/cloudforet/identity/v1/user_pb";
import { WorkspaceService } from "@cloudforet/proto/cloudforet/identity/v1/workspace_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loginAs } from "../support/identity";
import { ADMIN_PASSWORD, failure, startIdentity, type IdentityHarness } from "./harness";

let identity: IdentityHarness;
let ownerToken: string;
let memberToken: string;

beforeAll(async () => {
  identity = await startIdentity({ IDENTITY_SERVICE_TOKEN_TTL_SECONDS: "60" });
  const workspaces = identity.client(WorkspaceService, identity.adminToken);
  await workspaces.create({ workspaceId: "ws-svc", name: "Service identities" });
  await workspaces.create({ workspaceId: "ws-other", name: "Other" });
  const users = identity.client(UserService, identity.adminToken);
  await users.create({ userId: "owner-1", password: ADMIN_PASSWORD, roleBindings: [{ role: RoleBinding_Role.WORKSPACE_OWNER, workspaceId: "ws-svc" }] });
  await users.create({ userId: "member-1", password: ADMIN_PASSWORD, roleBindings: [{ role: RoleBinding_Role.WORKSPACE_MEMBER, workspaceId: "ws-svc" }] });
  ownerToken = await loginAs(identity.url, "domain-default", "owner-1", ADMIN_PASSWORD);
  memberToken = await loginAs(identity.url, "domain-default", "member-1", ADMIN_PASSWORD);
  await identity.client(ServiceAccountService, identity.adminToken).create({ serviceAccountId: "sa-svc-1", name: "sa", provider: "nutanix", workspaceId: "ws-svc" });
  await identity.client(ServiceAccountService, identity.adminToken).create({ serviceAccountId: "sa-other-1", name: "sa", provider: "nutanix", workspaceId: "ws-other" });
}, 60_000);

afterAll(async () => {
  await identity?.close();
});

describe("ServiceIdentityService", () => {
  it("an owner grants one; its credential mints short-lived tokens of WORKSPACE_OWNER of that workspace only", async () => {
    const granted = await identity.client(ServiceIdentityService, ownerToken).grant({ service: "inventory", workspaceId: "ws-svc" });
    expect(granted.credential).toMatch(/^cfs_[A-Za-z0-9_-]{43}$/);
    expect(granted.serviceIdentity).toMatchObject({ service: "inventory", workspaceId: "ws-svc", state: ServiceIdentity_State.ENABLED, grantedBy: "owner-1", domainId: "domain-default" });
    // Only the hash is stored.
    const [row] = await identity.sql`select credential_hash from identity.service_identities where service_identity_id = ${granted.serviceIdentity!.serviceIdentityId}`;
    expect(row.credential_hash).not.toContain(granted.credential);

    // No bearer token: the credential authenticates.
    const before = Date.now();
    const issued = await identity.client(ServiceIdentityService).issueToken({ credential: granted.credential });
    expect(issued).toMatchObject({ principal: `svc:inventory:${granted.serviceIdentity!.serviceIdentityId}`, domainId: "domain-default", workspaceId: "ws-svc" });
    const expiresAt = Number(issued.expiresAt!.seconds) * 1000;
    expect(expiresAt - before).toBeGreaterThan(50_000);
    expect(expiresAt - before).toBeLessThan(65_000);
    const claims = decodeJwt(issued.token);
    expect(claims).toMatchObject({ sub: issued.principal, did: "domain-default", ws: ["ws-svc"], roles: [{ role: "WORKSPACE_OWNER", workspace_id: "ws-svc" }], typ: "access" });

    // It reads its workspace and nothing else, and cannot do what only an admin may.
    const accounts = await identity.client(ServiceAccountService, issued.token).list({ query: {} });
    expect(accounts.results.map((a) => a.serviceAccountId)).toEqual(["sa-svc-1"]);
    expect(await failure(identity.client(ServiceAccountService, issued.token).get({ serviceAccountId: "sa-other-1" }))).toMatchObject({ code: expect.stringMatching(/ERROR_(NOT_FOUND|PERMISSION_DENIED)/) });
    expect(await failure(identity.client(WorkspaceService, issued.token).create({ workspaceId: "ws-new", name: "x" }))).toMatchObject({ code: "ERROR_PERMISSION_DENIED" });
  });

  it("keeps working after the user who granted it is deleted; a revoked one mints nothing and its tokens stop", async () => {
    const users = identity.client(UserService, identity.adminToken);
    await users.create({ userId: "owner-2", password: ADMIN_PASSWORD, roleBindings: [{ role: RoleBinding_Role.WORKSPACE_OWNER, workspaceId: "ws-svc" }] });
    const owner2 = await loginAs(identity.url, "domain-default", "owner-2", ADMIN_PASSWORD);
    const granted = await identity.client(ServiceIdentityService, owner2).grant({ service: "inventory", workspaceId: "ws-svc" });
    await users.delete({ userId: "owner-2" });
    expect(await failure(identity.client(ServiceAccountService, owner2).list({ query: {} }))).toMatchObject({ code: "ERROR_AUTHENTICATE_FAILURE" });

    const issued = await identity.client(ServiceIdentityService).issueToken({ credential: granted.credential });
    expect((await identity.client(ServiceAccountService, issued.token).list({ query: {} })).totalCount).toBe(1);

    // Rotation: a second token, the first still valid until it expires.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const again = await identity.client(ServiceIdentityService).issueToken({ credential: granted.credential });
    expect(again.token).not.toBe(issued.token);

    const revoked = await identity.client(ServiceIdentityService, identity.adminToken).revoke({ serviceIdentityId: granted.serviceIdentity!.serviceIdentityId });
    expect(revoked.serviceIdentity).toMatchObject({ state: ServiceIdentity_State.REVOKED });
    expect(await failure(identity.client(ServiceIdentityService).issueToken({ credential: granted.credential }))).toMatchObject({ code: "ERROR_AUTHENTICATE_FAILURE" });
    expect(await failure(identity.client(ServiceAccountService, again.token).list({ query: {} }))).toMatchObject({ code: "ERROR_AUTHENTICATE_FAILURE" });
  });

  it("refuses bad input and anyone who would grant more than they hold", async () => {
    const owner = identity.client(ServiceIdentityService, ownerToken);
    expect((await owner.grant({ service: "", workspaceId: "ws-svc" })).serviceIdentity).toMatchObject({ service: "inventory" });
    expect(await failure(owner.grant({ service: "cost", workspaceId: "ws-svc" }))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "service" } });
    expect(await failure(owner.grant({ service: "inventory", workspaceId: "" }))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "workspace_id" } });
    expect(await failure(owner.grant({ service: "inventory", workspaceId: "ws-other" }))).toMatchObject({ code: "ERROR_PERMISSION_DENIED" });
    expect(await failure(identity.client(ServiceIdentityService, memberToken).grant({ service: "inventory", workspaceId: "ws-svc" }))).toMatchObject({ code: "ERROR_PERMISSION_DENIED" });
    expect(await failure(identity.client(ServiceIdentityService, identity.adminToken).grant({ service: "inventory", workspaceId: "ws-missing" }))).toMatchObject({
      code: "ERROR_NOT_FOUND",
      metadata: { workspace_id: "ws-missing" },
    });
    expect(await failure(identity.client(ServiceIdentityService).grant({ service: "inventory", workspaceId: "ws-svc" }))).toMatchObject({ code: "ERROR_AUTHENTICATE_FAILURE" });
    const anonymous = identity.client(ServiceIdentityService);
    expect(await failure(anonymous.issueToken({ credential: "" }))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "credential" } });
    expect(await failure(anonymous.issueToken({ credential: `cfs_${"A".repeat(43)}` }))).toMatchObject({ code: "ERROR_AUTHENTICATE_FAILURE" });
    expect(await failure(anonymous.issueToken({ credential: "not-a-credential" }))).toMatchObject({ code: "ERROR_AUTHENTICATE_FAILURE" });
    expect(await failure(owner.revoke({ serviceIdentityId: "si-nope" }))).toMatchObject({ code: "ERROR_NOT_FOUND" });
  });
});
