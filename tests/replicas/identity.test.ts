// Two identity replicas started at the same moment on an empty database (a fresh deployment with
// replicas: 2), then written to through both at once: the bootstrap makes one administrator and
// one signing key, a secret Set by name through both is one secret, and a user id created through
// both is one user (the other call ERROR_CONFLICT, never INTERNAL).
import { identityModule } from "@cloudforet/identity";
import { AuthService } from "@cloudforet/proto/cloudforet/identity/v1/auth_pb";
import { SecretService } from "@cloudforet/proto/cloudforet/identity/v1/secret_pb";
import { RoleBinding_Role, UserService } from "@cloudforet/proto/cloudforet/identity/v1/user_pb";
import { WorkspaceService } from "@cloudforet/proto/cloudforet/identity/v1/workspace_pb";
import { startService } from "@cloudforet/runtime";
import { secretCanary, startReplicas, type Replicas } from "@cloudforet/testing";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_PASSWORD } from "../support/platform";
import { startBackdrop, type Backdrop } from "./backdrop";
import { outcome, replicaClient } from "./clients";

const WORKSPACE = "ws-replicas";
let backdrop: Backdrop;
let replicas: Replicas | undefined;
let token: string;
let sql: postgres.Sql;

beforeAll(async () => {
  backdrop = await startBackdrop("replicas_identity");
  // Both start at once: migrations, the signing key and the bootstrap race on an empty schema.
  replicas = await startReplicas(startService, identityModule, 2, backdrop.env());
  sql = postgres(backdrop.database.url, { max: 2, onnotice: () => {} });
  const auth = createClient(AuthService, createConnectTransport({ baseUrl: replicas.url(0), httpVersion: "2" }));
  ({ token } = await auth.login({ domainId: "domain-default", userId: "admin", password: ADMIN_PASSWORD }));
  await replicaClient(WorkspaceService, replicas.url(1), token).create({ workspaceId: WORKSPACE, name: WORKSPACE });
}, 120_000);

afterAll(async () => {
  await sql?.end();
  await replicas?.close();
  await backdrop?.close();
}, 60_000);

describe("identity on two replicas", () => {
  it("two replicas bootstrapping an empty schema at once make one administrator, one active signing key and one created event", async () => {
    const admins = await sql`select user_id from identity.role_bindings where domain_id = 'domain-default' and role = 'DOMAIN_ADMIN'`;
    expect(admins.map((r) => r.user_id)).toEqual(["admin"]);
    const [{ keys }] = await sql<{ keys: number }[]>`select count(*)::int as keys from identity.signing_keys where active`;
    expect(keys).toBe(1);
    const [{ events }] = await sql<{ events: number }[]>`
      select count(*)::int as events from identity.outbox where subject = 'cloudforet.identity.user.created' and payload->'data'->>'user_id' = 'admin'`;
    expect(events).toBe(1);
  });

  it("a token issued by one replica is accepted by the other", async () => {
    const workspace = await replicaClient(WorkspaceService, replicas!.url(1), token).get({ workspaceId: WORKSPACE });
    expect(workspace.workspaceId).toBe(WORKSPACE);
  });

  it("SecretService.Set of one name through both replicas at once leaves one secret", async () => {
    for (let round = 0; round < 8; round++) {
      const name = `replicated-secret-${round}`;
      const set = (replica: number) =>
        replicaClient(SecretService, replicas!.url(replica), token).set({ name, workspaceId: WORKSPACE, data: { password: secretCanary("replica_secret") } });
      const [a, b] = await Promise.all([set(0), set(1)]);
      expect(a.secretId).toBe(b.secretId);
      expect([a.created, b.created].sort()).toEqual([false, true]);
    }
    const rows = await sql<{ name: string; n: number }[]>`
      select name, count(*)::int as n from identity.secrets where name like 'replicated-secret-%' group by name order by name`;
    expect(rows).toHaveLength(8);
    expect(rows.every((r) => r.n === 1)).toBe(true);
  });

  it("CreateUser of one id through both replicas at once: one OK, one ALREADY_EXISTS (ERROR_CONFLICT), never INTERNAL", async () => {
    for (let round = 0; round < 8; round++) {
      const userId = `racer-${round}`;
      const create = (replica: number) =>
        replicaClient(UserService, replicas!.url(replica), token).create({
          userId,
          password: ADMIN_PASSWORD,
          name: userId,
          roleBindings: [{ role: RoleBinding_Role.WORKSPACE_MEMBER, workspaceId: WORKSPACE }],
        });
      const outcomes = await Promise.all([outcome(create(0)), outcome(create(1))]);
      expect(outcomes.sort()).toEqual(["AlreadyExists", "ok"]);
    }
    const [{ n }] = await sql<{ n: number }[]>`select count(*)::int as n from identity.users where user_id like 'racer-%'`;
    expect(n).toBe(8);
  });
});
