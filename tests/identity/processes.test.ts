// Identity as a real process: everything it prints at LOG_LEVEL=trace while handling secrets,
// passwords and keys holds none of them; the embedded mode generates its admin password and its
// secrets key once; a missing setting stops it with one clear line.
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { ApiKeyService } from "@cloudforet/proto/cloudforet/identity/v1/api_key_pb";
import { AuthService } from "@cloudforet/proto/cloudforet/identity/v1/auth_pb";
import { SecretService } from "@cloudforet/proto/cloudforet/identity/v1/secret_pb";
import { UserService } from "@cloudforet/proto/cloudforet/identity/v1/user_pb";
import { WorkspaceService } from "@cloudforet/proto/cloudforet/identity/v1/workspace_pb";
import { createTestDatabase, type TestDatabase } from "@cloudforet/testing";
import type { DescService } from "@bufbuild/protobuf";
import { afterAll, describe, expect, it } from "vitest";
import { bearer, loginAs } from "../support/identity";
import { failure, secretKeyEntry } from "./harness";
import { failedStart, spawnIdentity } from "./process";

const client = <S extends DescService>(url: string, service: S, token?: string) =>
  createClient(service, createConnectTransport({ baseUrl: url, httpVersion: "2", interceptors: token ? [bearer(token)] : [] }));

const databases: TestDatabase[] = [];
afterAll(async () => {
  for (const database of databases) await database.drop();
});

describe("logs never contain secrets", () => {
  it("at LOG_LEVEL=trace: secret values, passwords, API keys and tokens stay out of every line", { timeout: 120_000 }, async () => {
    const database = await createTestDatabase("identity_logs");
    databases.push(database);
    const adminPassword = "Adm1n-Log-Check-77";
    const identity = await spawnIdentity({
      DATABASE_URL: database.url,
      LOG_LEVEL: "trace",
      CLOUDFORET_ADMIN_PASSWORD: adminPassword,
      IDENTITY_SECRET_KEYS: secretKeyEntry("k1"),
    });
    const sensitive: string[] = [adminPassword];
    try {
      const token = await loginAs(identity.url, "domain-default", "admin", adminPassword);
      sensitive.push(token);
      await client(identity.url, WorkspaceService, token).create({ workspaceId: "ws-logs", name: "Logs" });
      const secretValue = "Nutanix-Pa55-In-Logs?";
      sensitive.push(secretValue);
      const secrets = client(identity.url, SecretService, token);
      const created = await secrets.create({ name: "prism", workspaceId: "ws-logs", data: { nutanix_password: secretValue } });
      await secrets.getData({ secretId: created.secretId });
      await secrets.set({ name: "prism", workspaceId: "ws-logs", data: { nutanix_password: secretValue } });
      // Failing calls carrying the value are logged as failures too.
      await failure(secrets.create({ name: "prism", workspaceId: "ws-logs", data: { nutanix_password: secretValue } }));
      await failure(secrets.create({ name: "bad name!", workspaceId: "ws-logs", data: { nutanix_password: secretValue } }));
      await failure(secrets.create({ name: "other", workspaceId: "ws-missing", data: { nutanix_password: secretValue } }));
      const userPassword = "User-Pa55-In-Logs";
      sensitive.push(userPassword);
      await client(identity.url, UserService, token).create({ userId: "logger", password: userPassword });
      await failure(client(identity.url, UserService, token).create({ userId: "logger", password: userPassword }));
      const wrongPassword = "Wrong-Pa55-In-Logs";
      sensitive.push(wrongPassword);
      await failure(client(identity.url, AuthService).login({ domainId: "domain-default", userId: "logger", password: wrongPassword }));
      const key = await client(identity.url, ApiKeyService, token).create({ userId: "logger", name: "k" });
      sensitive.push(key.apiKey);
      const login = await client(identity.url, AuthService).login({ domainId: "domain-default", userId: "logger", password: key.apiKey });
      sensitive.push(login.token, login.refreshToken);
      await client(identity.url, AuthService).refresh({ refreshToken: login.refreshToken });
      await failure(client(identity.url, AuthService).refresh({ refreshToken: login.refreshToken }));
    } finally {
      expect(await identity.stop()).toBe(0);
    }
    const output = identity.output();
    expect(output).toContain('"method":"cloudforet.identity.v1.SecretService/GetData"'); // the calls were logged
    expect(output).toContain('"code":"ALREADY_EXISTS"');
    for (const value of sensitive) expect(output).not.toContain(value);
  });
});

describe("the embedded mode (no DATABASE_URL)", () => {
  it("generates the admin password and the secrets key once, prints the password once, and keeps both", { timeout: 300_000 }, async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), "identity-embedded-"));
    try {
      const env = { CLOUDFORET_DATA_DIR: dataDir, LOG_LEVEL: "info" };
      const first = await spawnIdentity(env, 120_000);
      let secretId: string;
      let password: string;
      try {
        const line = first.output().split("\n").find((l) => l.includes("generated password"));
        expect(line).toBeDefined();
        password = /generated password: (\S+)/.exec(line!)![1];
        expect(password.length).toBeGreaterThanOrEqual(16);
        expect(line).toContain('user \\"admin\\"');
        const token = await loginAs(first.url, "domain-default", "admin", password);
        await client(first.url, WorkspaceService, token).create({ workspaceId: "ws-e", name: "E" });
        secretId = (await client(first.url, SecretService, token).create({ name: "kept", workspaceId: "ws-e", data: { v: "embedded" } })).secretId;
      } finally {
        expect(await first.stop()).toBe(0);
      }
      const keyFile = await stat(path.join(dataDir, "identity", "secret-keys"));
      expect(keyFile.mode & 0o777).toBe(0o600);

      const second = await spawnIdentity(env, 120_000);
      try {
        expect(second.output()).not.toContain("generated password");
        const token = await loginAs(second.url, "domain-default", "admin", password);
        expect((await client(second.url, SecretService, token).getData({ secretId })).data).toEqual({ v: "embedded" });
      } finally {
        expect(await second.stop()).toBe(0);
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe("start-up configuration errors", () => {
  it("with DATABASE_URL but no admin password or secret keys, the process stops with one line naming both", { timeout: 120_000 }, async () => {
    const database = await createTestDatabase("identity_noconfig");
    databases.push(database);
    const { code, output } = await failedStart({ DATABASE_URL: database.url, LOG_LEVEL: "info" });
    expect(code).toBe(1);
    const fatal = output.split("\n").filter((l) => l.includes('"level":"fatal"'));
    expect(fatal).toHaveLength(1);
    expect(fatal[0]).toContain("identity cannot start");
    expect(fatal[0]).toContain("CLOUDFORET_ADMIN_PASSWORD");
    expect(fatal[0]).toContain("IDENTITY_SECRET_KEYS");
  });
});
