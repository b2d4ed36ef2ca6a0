import { cloudServiceModule } from "@cloudforet/cloud-service";
import { costModule } from "@cloudforet/cost";
import { inventoryModule } from "@cloudforet/inventory";
import { monitoringModule } from "@cloudforet/monitoring";
import { notificationModule } from "@cloudforet/notification";
import type { PlatformUrls } from "../../plugins/collector-nutanix/src/index";
import { startTestPlatform, type TestPlatform } from "../support/platform";
import { freePort } from "@cloudforet/testing";

/** Every service the Nutanix walkthrough touches; inventory knows cloud-service's URL before it starts. */
export async function startNutanixPlatform(): Promise<TestPlatform> {
  const port = await freePort();
  return startTestPlatform({
    modules: [cloudServiceModule, inventoryModule, costModule, monitoringModule, notificationModule],
    env: {
      CLOUD_SERVICE_ADDR: `127.0.0.1:${port}`,
      CLOUD_SERVICE_URL: `http://127.0.0.1:${port}`,
      INVENTORY_TIMEOUT_SWEEP_INTERVAL_MS: "200",
      IDENTITY_SECRET_KEYS: process.env.IDENTITY_SECRET_KEYS ?? "test:BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=",
    },
  });
}

export function platformUrls(platform: TestPlatform): PlatformUrls {
  return {
    identity: platform.url("identity"),
    inventory: platform.url("inventory"),
    cloudService: platform.url("cloud-service"),
    cost: platform.url("cost"),
    monitoring: platform.url("monitoring"),
    notification: platform.url("notification"),
  };
}
