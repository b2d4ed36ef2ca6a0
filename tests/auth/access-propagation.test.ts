// Access decisions come from memory (identity's in-process copy of users, keys and bindings; the
// other services' AccessChangeList), so this checks that the memory follows the changes: a revoked
// API key and a removed role binding stop working on identity at once (its own write drops its copy)
// and on another service within one second (identity's events over real NATS), for tokens issued
// before the change, after both services had already answered those tokens (caches warm).
import { Code, ConnectError } from "@connectrpc/connect";
import { cloudServiceModule } from "@cloudforet/cloud-service";
import { CloudServiceTypeService } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_type_pb";
import { ApiKeyService } from "@cloudforet/proto/cloudforet/identity/v1/api_key_pb";
import { RoleBinding_Role, UserService } from "@cloudforet/proto/cloudforet/identity/v1/user_pb";
import { WorkspaceService } from "@cloudforet/proto/cloudforet/identity/v1/workspace_pb";
import { testNatsUrl, uniqueSuffix } from "@cloudforet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_PASSWORD, startTestPlatform, type Identity, type TestPlatform } from "../support/platform";

let platform: TestPlatform;
// Ids unique to this run: every service follows the shared stream's identity events.
const suffix = uniqueSuffix();
let counter = 0;
const unique = (prefix: string) => `${prefix}-${suffix}-${++counter}`;

beforeAll(async () => {
  platform = await startTestPlatform({ modules: [cloudServiceModule], env: { NATS_URL: testNatsUrl() } });
}, 120_000);

afterAll(async () => {
  await platform?.close();
});

/** The gRPC code a call ended with ("OK" when it succeeded). */
async function codeOf(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return "OK";
  } catch (err) {
    return Code[ConnectError.from(err).code];
  }
}

/** Polls `call` until it ends with `wanted` or a second has passed since `since`; the last code seen. */
async function within1s(since: number, call: () => Promise<unknown>, wanted: string): Promise<string> {
  let last: string;
  do {
    last = await codeOf(call());
    if (last === wanted) return last;
    await new Promise((resolve) => setTimeout(resolve, 25));
  } while (Date.now() - since < 1_000);
  return last;
}

async function domainAdmin(): Promise<string> {
  const userId = unique("prop-admin");
  await platform.client(UserService).create({ userId, password: ADMIN_PASSWORD, name: userId, roleBindings: [{ role: RoleBinding_Role.DOMAIN_ADMIN }] });
  return userId;
}

describe("access changes reach every service", () => {
  it("a revoked API key's token is refused by identity at once and by cloud-service within a second", { timeout: 60_000 }, async () => {
    const userId = await domainAdmin();
    const { apiKey, apiKeyId } = await platform.client(ApiKeyService).create({ userId, name: unique("key") });
    const viaKey: Identity = await platform.login("domain-default", userId, apiKey);
    const readIdentity = () => platform.client(UserService, viaKey).list({ query: { page: { start: 0, limit: 5 } } });
    const readCloudService = () => platform.client(CloudServiceTypeService, viaKey).list({ query: { page: { start: 0, limit: 5 } } });
    // Both have answered this token already: whatever they keep about it is in memory now.
    expect(await codeOf(readIdentity())).toBe("OK");
    expect(await codeOf(readCloudService())).toBe("OK");

    await platform.client(ApiKeyService).revoke({ apiKeyId });
    const since = Date.now();
    expect(await codeOf(readIdentity())).toBe("Unauthenticated");
    expect(await within1s(since, readCloudService, "Unauthenticated")).toBe("Unauthenticated");
  });

  it("a removed DOMAIN_ADMIN binding stops an earlier token's writes on identity at once and on cloud-service within a second", { timeout: 60_000 }, async () => {
    const userId = await domainAdmin();
    const old = await platform.login("domain-default", userId, ADMIN_PASSWORD);
    const writeIdentity = () => platform.client(WorkspaceService, old).create({ workspaceId: unique("ws-prop"), name: "prop" });
    const writeCloudService = () => platform.client(CloudServiceTypeService, old).create({ name: unique("Type").replace(/-/g, ""), group: "Prop", provider: "nutanix" });
    expect(await codeOf(writeIdentity())).toBe("OK");
    expect(await codeOf(writeCloudService())).toBe("OK");

    await platform.client(UserService).removeRoleBinding({ userId, role: RoleBinding_Role.DOMAIN_ADMIN });
    const since = Date.now();
    expect(await codeOf(writeIdentity())).toBe("PermissionDenied");
    expect(await within1s(since, writeCloudService, "PermissionDenied")).toBe("PermissionDenied");
    // Reads of domain-wide data stay open to the (still authenticated) member of the domain.
    expect(await codeOf(platform.client(CloudServiceTypeService, old).list({}))).toBe("OK");
  });
});
