// cfctl and the SDK on collector schedules: get shows the schedule and its next fire; schedule
// enable/disable turn it on and off; schedule fires lists what it did.
import { inventoryModule } from "@cloudforet/inventory";
import { cloudServiceModule } from "@cloudforet/cloud-service";
import { CollectorService } from "@cloudforet/proto/cloudforet/inventory/v1/collector_pb";
import { servePlugin, type ServedPlugin } from "@cloudforet/plugin-sdk";
import { Client } from "@cloudforet/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { runCfctl, serviceUrlEnv } from "../cli/support";
import { startTestPlatform, type TestPlatform } from "../support/platform";
import { createNutanixAccounts, freePort } from "./inventory-platform";
import { waitUntil } from "./schedule-support";
import { testPlugin } from "./test-plugin";

let platform: TestPlatform;
let plugin: ServedPlugin;
let env: Record<string, string>;

beforeAll(async () => {
  plugin = await servePlugin(testPlugin, { host: "127.0.0.1", port: 0 });
  const port = await freePort();
  platform = await startTestPlatform({
    modules: [cloudServiceModule, inventoryModule],
    env: { CLOUD_SERVICE_ADDR: `127.0.0.1:${port}`, CLOUD_SERVICE_URL: `http://127.0.0.1:${port}`, INVENTORY_TIMEOUT_SWEEP_INTERVAL_MS: "200" },
  });
  await createNutanixAccounts(platform, platform.admin, "ws-cfctl-sched", ["sa-cfctl-1"]);
  await platform.client(CollectorService).create({
    collectorId: "collector-cfctl",
    name: "cfctl",
    provider: "nutanix",
    workspaceId: "ws-cfctl-sched",
    pluginInfo: { endpoint: plugin.url, options: { count: 1 } },
    schedule: { enabled: false, intervalSeconds: 2 },
  });
  const urls = serviceUrlEnv({ ...platform, url: (name: string) => (["identity", "inventory", "cloud-service"].includes(name) ? platform.url(name) : "http://127.0.0.1:9") });
  env = { ...urls, CLOUDFORET_TOKEN: platform.admin.token, CFCTL_CONFIG: "/nonexistent/cfctl-config.yaml" };
}, 120_000);

afterAll(async () => {
  await platform?.close();
  await plugin?.close();
});

describe("cfctl schedule", () => {
  it("enables, shows the next fire, lists the fires, disables", async () => {
    const enabled = await runCfctl(["schedule", "enable", "collector-cfctl"], env);
    expect(enabled.stderr).toBe("");
    expect(enabled.code).toBe(0);
    const next = /next fire (\S+)/.exec(enabled.stdout)?.[1];
    expect(enabled.stdout).toMatch(/^collector\/collector-cfctl schedule enabled; next fire \d{4}-\d\d-\d\dT/);
    expect(Math.abs(Date.parse(next!) - Date.now())).toBeLessThan(4000);

    const shown = await runCfctl(["get", "collector", "collector-cfctl", "-o", "yaml"], env);
    expect(shown.code).toBe(0);
    expect(YAML.parse(shown.stdout).schedule).toMatchObject({ enabled: true, interval_seconds: 2, next_fire_at: expect.any(String) });
    const table = await runCfctl(["get", "collector", "collector-cfctl"], env);
    expect(table.stdout).toContain("NEXT_FIRE_AT");

    // The SDK sees the same fires.
    const client = new Client({ token: platform.admin.token, urls: { identity: platform.url("identity"), inventory: platform.url("inventory") } });
    await waitUntil(async () => (await client.inventory.collectors.scheduleFires({ filter: [{ k: "collector_id", v: "collector-cfctl" }] }).page(0, 10)).totalCount, (n) => n >= 2, 30_000, "two fires");
    const fires = await runCfctl(["schedule", "fires", "collector-cfctl", "--limit", "1"], env);
    expect(fires.code).toBe(0);
    expect(fires.stdout.trim().split("\n")).toHaveLength(1);
    expect(fires.stdout).toMatch(/^\d{4}-\d\d-\d\dT\S+ +(STARTED|SKIPPED) +job-/);

    const disabled = await runCfctl(["schedule", "disable", "collector-cfctl"], env);
    expect(disabled.stdout).toBe("collector/collector-cfctl schedule disabled\n");
    expect((await platform.client(CollectorService).get({ collectorId: "collector-cfctl" })).schedule).toMatchObject({ enabled: false });

    const bad = await runCfctl(["schedule", "pause", "collector-cfctl"], env);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("usage: cfctl schedule");
    const missing = await runCfctl(["schedule", "enable", "collector-nope"], env);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/not found/i);
  }, 90_000);
});
