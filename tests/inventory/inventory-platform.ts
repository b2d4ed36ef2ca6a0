import { cloudServiceModule } from "@cloudforet/cloud-service";
import { inventoryModule } from "@cloudforet/inventory";
import { SecretService } from "@cloudforet/proto/cloudforet/identity/v1/secret_pb";
import { ServiceAccountService } from "@cloudforet/proto/cloudforet/identity/v1/service_account_pb";
import { WorkspaceService } from "@cloudforet/proto/cloudforet/identity/v1/workspace_pb";
import { startTestPlatform, type Identity, type TestPlatform } from "../support/platform";
export { freePort } from "@cloudforet/testing";
import { freePort } from "@cloudforet/testing";

/** Identity, cloud-service and inventory, wired to each other, with a fast timeout sweep. */
export async function startInventoryPlatform(env: Record<string, string> = {}): Promise<TestPlatform> {
  const port = await freePort();
  return startTestPlatform({
    modules: [cloudServiceModule, inventoryModule],
    env: {
      CLOUD_SERVICE_ADDR: `127.0.0.1:${port}`,
      CLOUD_SERVICE_URL: `http://127.0.0.1:${port}`,
      INVENTORY_TIMEOUT_SWEEP_INTERVAL_MS: "200",
      // Identity encrypts secrets with this key (tests only).
      IDENTITY_SECRET_KEYS: process.env.IDENTITY_SECRET_KEYS ?? "test:BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=",
      // INVENTORY_TEST_NATS_URL runs the services on JetStream instead of the in-process bus.
      ...(process.env.INVENTORY_TEST_NATS_URL ? { NATS_URL: process.env.INVENTORY_TEST_NATS_URL } : {}),
      ...env,
    },
  });
}

/** The seed's Nutanix setup: a workspace, a secret with the seed's credentials, and service accounts. */
export async function createNutanixAccounts(platform: TestPlatform, as: Identity, workspaceId: string, accountIds: string[]): Promise<string> {
  await platform.client(WorkspaceService, as).create({ workspaceId, name: workspaceId });
  const secret = await platform.client(SecretService, as).create({
    name: `nutanix-prism-creds-${workspaceId}`,
    workspaceId,
    data: {
      nutanix_host: "prism.nutanix.local",
      nutanix_username: "admin@nutanix.com",
      nutanix_password: "DecryptedPassword123!",
      nutanix_port: 9440,
      verify_ssl: true,
    },
  });
  for (const serviceAccountId of accountIds) {
    await platform.client(ServiceAccountService, as).create({ serviceAccountId, name: serviceAccountId, provider: "nutanix", workspaceId, secretId: secret.secretId });
  }
  return secret.secretId;
}
