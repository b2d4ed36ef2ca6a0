import { identityModule } from "@cloudforet/identity";
import { AuthService } from "@cloudforet/proto/cloudforet/identity/v1/auth_pb";
import type { RunningService } from "@cloudforet/runtime";
import { startService } from "@cloudforet/runtime";
import { createTestDatabase, TEST_OUTBOUND_ALLOW, type TestDatabase } from "@cloudforet/testing";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { PrivateNats } from "../faults/support/private-nats";
import { ADMIN_PASSWORD } from "../support/platform";

/**
 * What replicas of a service stand on: a database and a nats-server of this test file's own (the
 * services' stream and durable names are fixed, so on the shared NATS they would take other files'
 * events), and the environment every replica of every service gets.
 */
export interface Backdrop {
  database: TestDatabase;
  nats: PrivateNats;
  /** The environment of a replica (IDENTITY_URL once identity runs). */
  env(extra?: Record<string, string>): Record<string, string>;
  close(): Promise<void>;
}

export async function startBackdrop(prefix: string): Promise<Backdrop> {
  const database = await createTestDatabase(prefix);
  const nats = await PrivateNats.start();
  return {
    database,
    nats,
    env: (extra = {}) => ({
      DATABASE_URL: database.url,
      NATS_URL: nats.url,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
      CLOUDFORET_ADMIN_PASSWORD: ADMIN_PASSWORD,
      IDENTITY_SECRET_KEYS: `test:${Buffer.alloc(32, 1).toString("base64")}`,
      NOTIFICATION_CREDENTIALS_KEYS: `test:${Buffer.alloc(32, 2).toString("base64")}`,
      ORCHESTRATION_CREDENTIALS_KEYS: `test:${Buffer.alloc(32, 3).toString("base64")}`,
      INVENTORY_CREDENTIALS_KEYS: `test:${Buffer.alloc(32, 4).toString("base64")}`,
      CLOUDFORET_OUTBOUND_ALLOW: TEST_OUTBOUND_ALLOW,
      ...extra,
    }),
    async close() {
      await nats.destroy();
      await database.drop();
    },
  };
}

/** One identity (it issues the tokens the replicas verify) on the backdrop, and the admin's token. */
export async function startIdentity(backdrop: Backdrop): Promise<{ identity: RunningService; token: string }> {
  const identity = await startService(identityModule, backdrop.env({ IDENTITY_ADDR: "127.0.0.1:0" }));
  const auth = createClient(AuthService, createConnectTransport({ baseUrl: identity.url, httpVersion: "2" }));
  const { token } = await auth.login({ domainId: "domain-default", userId: "admin", password: ADMIN_PASSWORD });
  return { identity, token };
}
