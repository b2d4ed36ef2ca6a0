// First start: domain-default and its admin, the signing key; idempotent across restarts and
// replicas starting together; configuration errors that say what is missing.
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { identityModule } from "@cloudforet/identity";
import { UserService } from "@cloudforet/proto/cloudforet/identity/v1/user_pb";
import { ConfigError, startService } from "@cloudforet/runtime";
import { createTestDatabase } from "@cloudforet/testing";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, loginAs } from "../support/identity";
import { ADMIN_PASSWORD, secretKeyEntry, startIdentity, type IdentityHarness } from "./harness";

let identity: IdentityHarness;

async function counts(sql: postgres.Sql) {
  const [row] = await sql`
    select (select count(*) from identity.domains)::int as domains,
           (select count(*) from identity.users)::int as users,
           (select count(*) from identity.role_bindings where role = 'DOMAIN_ADMIN')::int as admins,
           (select count(*) from identity.signing_keys)::int as signing_keys,
           (select count(*) from identity.signing_keys where active)::int as active_keys`;
  return row;
}

beforeAll(async () => {
  identity = await startIdentity();
});

afterAll(async () => {
  await identity?.close();
});

describe("bootstrap", () => {
  it("the first start creates domain-default, its admin from CLOUDFORET_ADMIN_PASSWORD and one signing key", async () => {
    expect(await counts(identity.sql)).toEqual({ domains: 1, users: 1, admins: 1, signing_keys: 1, active_keys: 1 });
    const admin = await identity.client(UserService, identity.adminToken).get({ userId: "admin" });
    expect(admin.roleBindings.map((b) => b.role)).toEqual([1]); // DOMAIN_ADMIN
  });

  it("restarting changes nothing: same admin, same key, earlier tokens still valid", async () => {
    const before = await identity.sql`select kid from identity.signing_keys`;
    // Even a different password in the environment does not overwrite the existing admin.
    await identity.restart({ CLOUDFORET_ADMIN_PASSWORD: "Another-Passw0rd" });
    await identity.restart();
    expect(await counts(identity.sql)).toEqual({ domains: 1, users: 1, admins: 1, signing_keys: 1, active_keys: 1 });
    expect(await identity.sql`select kid from identity.signing_keys`).toEqual(before);
    await identity.client(UserService, identity.adminToken).get({ userId: "admin" });
    await loginAs(identity.url, "domain-default", "admin", ADMIN_PASSWORD);
  });

  it("replicas starting together on a fresh database create one domain, one admin and one signing key", async () => {
    const database = await createTestDatabase("identity_replicas");
    const env = {
      DATABASE_URL: database.url,
      IDENTITY_ADDR: "127.0.0.1:0",
      LOG_LEVEL: "silent",
      CLOUDFORET_ADMIN_PASSWORD: ADMIN_PASSWORD,
      IDENTITY_SECRET_KEYS: secretKeyEntry("shared"),
    };
    const replicas = await Promise.all([startService(identityModule, env), startService(identityModule, env), startService(identityModule, env)]);
    const sql = postgres(database.url, { max: 1, onnotice: () => {} });
    try {
      expect(await counts(sql)).toEqual({ domains: 1, users: 1, admins: 1, signing_keys: 1, active_keys: 1 });
      // A token from one replica is accepted by the others.
      const token = await loginAs(replicas[0].url, "domain-default", "admin", ADMIN_PASSWORD);
      for (const replica of replicas.slice(1)) {
        const users = createClient(UserService, createConnectTransport({ baseUrl: replica.url, httpVersion: "2", interceptors: [bearer(token)] }));
        expect((await users.get({ userId: "admin" })).userId).toBe("admin");
      }
    } finally {
      await Promise.all(replicas.map((r) => r.close()));
      await sql.end();
      await database.drop();
    }
  });

  it("CLOUDFORET_ADMIN_USER names the admin", async () => {
    const database = await createTestDatabase("identity_admin_user");
    const env = {
      DATABASE_URL: database.url,
      IDENTITY_ADDR: "127.0.0.1:0",
      LOG_LEVEL: "silent",
      CLOUDFORET_ADMIN_USER: "root@example.com",
      CLOUDFORET_ADMIN_PASSWORD: ADMIN_PASSWORD,
      IDENTITY_SECRET_KEYS: secretKeyEntry("k"),
    };
    const service = await startService(identityModule, env);
    try {
      await loginAs(service.url, "domain-default", "root@example.com", ADMIN_PASSWORD);
    } finally {
      await service.close();
      await database.drop();
    }
  });
});

describe("configuration", () => {
  async function startError(env: Record<string, string>): Promise<ConfigError> {
    const database = await createTestDatabase("identity_config");
    try {
      const err = await startService(identityModule, { DATABASE_URL: database.url, IDENTITY_ADDR: "127.0.0.1:0", LOG_LEVEL: "silent", ...env }).then(
        async (service) => {
          await service.close();
          return undefined;
        },
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ConfigError);
      return err as ConfigError;
    } finally {
      await database.drop();
    }
  }

  it("with DATABASE_URL, a missing admin password and missing secret keys are named together", async () => {
    const err = await startError({});
    expect(err.problems).toHaveLength(2);
    expect(err.message).toContain("CLOUDFORET_ADMIN_PASSWORD is required when DATABASE_URL is set");
    expect(err.message).toContain("IDENTITY_SECRET_KEYS is required when DATABASE_URL is set");
  });

  it("a malformed key is named by its id, without echoing key material", async () => {
    const err = await startError({ CLOUDFORET_ADMIN_PASSWORD: ADMIN_PASSWORD, IDENTITY_SECRET_KEYS: "good:" + Buffer.alloc(32, 1).toString("base64") + ",weak:c2hvcnQta2V5" });
    expect(err.message).toContain('IDENTITY_SECRET_KEYS key "weak" must be 32 bytes');
    expect(err.message).not.toContain("c2hvcnQta2V5");
    const dup = await startError({ CLOUDFORET_ADMIN_PASSWORD: ADMIN_PASSWORD, IDENTITY_SECRET_KEYS: `${secretKeyEntry("a")},${secretKeyEntry("a")}` });
    expect(dup.message).toContain('names key id "a" twice');
  });

  it("bad numbers and short admin passwords are refused", async () => {
    const err = await startError({ CLOUDFORET_ADMIN_PASSWORD: "short", IDENTITY_SECRET_KEYS: secretKeyEntry("k"), IDENTITY_TOKEN_TTL_SECONDS: "soon" });
    expect(err.problems).toEqual([
      'IDENTITY_TOKEN_TTL_SECONDS must be a positive integer, got "soon"',
      "CLOUDFORET_ADMIN_PASSWORD must be at least 8 characters",
    ]);
  });
});
