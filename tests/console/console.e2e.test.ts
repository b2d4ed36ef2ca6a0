// The web console in a real browser (Debian's Chromium through playwright-core) against the platform
// started in this process, served by the console gateway from a fresh `vite build`: sign in, filter the
// cloud services and open one, follow a push collection job live (JobService.Watch through the
// gateway), run a sequence and retry the failed instance from the dead-letter queue, see a cost chart,
// a metric's series, a notification's deliveries, users' roles and an API key shown once, cron schedules.
// A missing /usr/bin/chromium fails the file (scripts/install-chromium.sh installs it).
// CONSOLE_SCREENSHOTS=<dir> also saves a screenshot of each page there (docs/console).
import { mkdirSync } from "node:fs";
import path from "node:path";
import { cloudServiceModule } from "@cloudforet/cloud-service";
import { costModule } from "@cloudforet/cost";
import { monitoringModule } from "@cloudforet/monitoring";
import { notificationModule } from "@cloudforet/notification";
import { inventoryModule } from "@cloudforet/inventory";
import { orchestrationModule } from "@cloudforet/orchestration";
import { ApiKeyService } from "@cloudforet/proto/cloudforet/identity/v1/api_key_pb";
import { CloudServiceService } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_pb";
import { CostService } from "@cloudforet/proto/cloudforet/cost/v1/cost_pb";
import { CollectorService } from "@cloudforet/proto/cloudforet/inventory/v1/collector_pb";
import { JobService } from "@cloudforet/proto/cloudforet/inventory/v1/job_pb";
import { MetricService } from "@cloudforet/proto/cloudforet/monitoring/v1/metric_pb";
import { Notification_Severity, NotificationService } from "@cloudforet/proto/cloudforet/notification/v1/notification_pb";
import { CronService } from "@cloudforet/proto/cloudforet/orchestration/v1/cron_pb";
import { InstanceService, TaskInstance_State } from "@cloudforet/proto/cloudforet/orchestration/v1/instance_pb";
import { SequenceService } from "@cloudforet/proto/cloudforet/orchestration/v1/sequence_pb";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildConsole, distDir, launchChromium, type ConsoleBrowser, type Page } from "../../apps/console/e2e/browser";
import { startConsoleGateway, type ConsoleGateway } from "../../apps/console/server/gateway";
import { createLogger as createPluginLogger, runPushCollection } from "../../plugins/collector-nutanix/src/index";
import { createNutanixAccounts, freePort } from "../inventory/inventory-platform";
import { platformUrls } from "../nutanix/nutanix-platform";
import { startPrismSimulator } from "../support/prism-simulator";
import { notificationTestEnv } from "../notification/support/env";
import { ADMIN_PASSWORD, startTestPlatform, type TestPlatform } from "../support/platform";

let platform: TestPlatform;
let gateway: ConsoleGateway;
let chromium: ConsoleBrowser;
let page: Page;
const shotDir = process.env.CONSOLE_SCREENSHOTS ? path.resolve(process.env.CONSOLE_SCREENSHOTS) : undefined;

async function shot(name: string): Promise<void> {
  if (!shotDir) return;
  mkdirSync(shotDir, { recursive: true });
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(shotDir, `${name}.png`) });
}

/** The page and the services answer within seconds, even on a loaded 2-core runner; the default 1 s poll is too short. */
const poll = <T,>(fn: () => Promise<T> | T) => expect.poll(fn, { timeout: 30_000, interval: 150 });

const isoDay = (offset: number) => new Date(Date.now() - offset * 86_400_000).toISOString().slice(0, 10);

beforeAll(async () => {
  chromium = await launchChromium();
  buildConsole();
  const cloudServicePort = await freePort();
  platform = await startTestPlatform({
    modules: [cloudServiceModule, inventoryModule, costModule, orchestrationModule, monitoringModule, notificationModule],
    env: {
      ...notificationTestEnv(),
      CLOUD_SERVICE_ADDR: `127.0.0.1:${cloudServicePort}`,
      CLOUD_SERVICE_URL: `http://127.0.0.1:${cloudServicePort}`,
      ORCHESTRATION_HTTP_ADDR: "127.0.0.1:0",
      ORCHESTRATION_TICK_MS: "100",
    },
  });
  const resources = platform.client(CloudServiceService);
  for (const [i, cluster] of ["cluster-a", "cluster-a", "cluster-b"].entries()) {
    await resources.create({
      cloudServiceType: "compute.Instance",
      cloudServiceGroup: "compute",
      cloudServiceName: `vm-e2e-${i}`,
      provider: "nutanix",
      account: "pc-1",
      data: { cluster, cpu_cores: 2 + i },
      tags: { env: i === 2 ? "dev" : "prod" },
    });
  }
  const services = Object.fromEntries(["identity", "cloud-service", "inventory", "cost", "orchestration", "monitoring", "notification"].map((name) => [name, platform.url(name)]));
  gateway = await startConsoleGateway({ port: 0, services, distDir });
  page = await chromium.browser.newPage();
  page.setDefaultTimeout(15_000);
}, 240_000);

afterAll(async () => {
  await chromium?.close();
  await gateway?.close();
  await platform?.close();
});

describe("console in Chromium", { timeout: 90_000 }, () => {
  it("explains a wrong password, then signs in", async () => {
    await page.goto(`${gateway.url}/cloud-services`);
    await shot("login");
    await page.getByLabel("Password").fill("not-the-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await poll(() => page.getByRole("alert").textContent()).toContain("Sign-in failed");
    await page.getByLabel("Password").fill(ADMIN_PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Cloud services" }).waitFor();
    await page.getByRole("button", { name: "vm-e2e-2" }).waitFor();
  });

  it("filters the resources through the query language, in the URL", async () => {
    await page.getByLabel("Field").fill("data.cluster");
    await page.getByLabel("Value").fill("cluster-a");
    await page.getByRole("button", { name: "Add filter" }).click();
    await poll(() => page.getByRole("button", { name: "vm-e2e-2" }).count()).toBe(0);
    expect(await page.getByRole("button", { name: /^vm-e2e-[01]$/ }).count()).toBe(2);
    expect(decodeURIComponent(page.url())).toContain("f=data.cluster:eq:cluster-a");
    await poll(() => page.getByRole("region", { name: "Statistics" }).textContent()).toContain("compute.Instance");
  });

  it("opens one in the drawer with its data and tags", async () => {
    await page.getByRole("button", { name: "vm-e2e-1" }).click();
    const drawer = page.getByRole("dialog", { name: "vm-e2e-1" });
    await drawer.waitFor();
    await poll(() => drawer.getByLabel("Resource data").textContent()).toContain('"cpu_cores": 3');
    expect(await drawer.textContent()).toContain("prod");
    expect(page.url()).toContain("open=");
    await shot("cloud-services");
    await page.keyboard.press("Escape");
    await poll(() => drawer.count()).toBe(0);
  });

  it("follows a push collection from the Nutanix simulator live until it finishes", async () => {
    // The account's secret (createNutanixAccounts) holds these credentials; the simulator checks them.
    const sim = await startPrismSimulator({ seed: 21, clusters: 1, vms: 12, subnets: 2, username: "admin@nutanix.com", password: "DecryptedPassword123!" });
    try {
      await createNutanixAccounts(platform, platform.admin, "ws-nutanix", ["sa-prod-cluster-01"]);
      await platform.client(CollectorService).create({ collectorId: "collector-nutanix-001", name: "Nutanix Plugin", provider: "nutanix", workspaceId: "ws-nutanix" });
      const job = await platform.client(JobService).create({ collectorId: "collector-nutanix-001", name: "Nutanix Collection Job", serviceAccountIds: ["sa-prod-cluster-01"] });
      const apiKey = (await platform.client(ApiKeyService).create({ userId: "admin", name: "console-e2e-plugin" })).apiKey;
      await page.getByRole("link", { name: "Collectors & jobs" }).click();
      await page.getByRole("button", { name: "Nutanix Collection Job" }).click();
      const drawer = page.getByRole("dialog", { name: "Job Nutanix Collection Job" });
      await drawer.waitFor();
      // The reference collector's push mode, as an operator would run it, while the page watches the job.
      const result = await runPushCollection({
        urls: platformUrls(platform),
        domainId: "domain-default",
        userId: "admin",
        apiKey,
        collectorId: "collector-nutanix-001",
        serviceAccountId: "sa-prod-cluster-01",
        jobId: job.jobId,
        options: { prism_url: sim.url, page_size: 5, batch_size: 5, retry_base_delay_ms: 5 },
        logger: createPluginLogger("silent"),
      });
      expect(result.failure).toBeUndefined();
      expect(result.createdCount).toBe(sim.subnets.length + sim.vms.length + sim.diskCount);
      await poll(() => drawer.getByTestId("job-status").textContent()).toBe("FINISHED");
      await poll(() => drawer.textContent()).toContain(`${result.createdCount} created`);
      expect(await drawer.textContent()).toContain("1 succeeded · 0 failed · 1 total");
      await shot("job-watch");
      await page.keyboard.press("Escape");
    } finally {
      await sim.close();
    }
  });

  it("runs a sequence, sees it fail, and retries it from the dead-letter queue", async () => {
    const instances = platform.client(InstanceService);
    await platform.client(SequenceService).create({ namespace: "default", name: "console-gate", blocks: [{ type: "step", id: "gate", handler: "assert", params: { condition: "ok" } }] });
    await page.getByRole("link", { name: "Workflow instances" }).click();
    await page.locator("summary", { hasText: "Run a sequence" }).click();
    await page.getByLabel("Sequence name").fill("console-gate");
    await page.getByRole("button", { name: "Run", exact: true }).click();
    // The new instance opens in the drawer and is followed until it ends: `ok` is missing, so it fails.
    await poll(() => page.getByTestId("instance-state").textContent()).toBe("FAILED");
    const id = new URL(page.url()).searchParams.get("open")!;
    expect(id).toBeTruthy();
    await page.keyboard.press("Escape");
    await page.getByRole("tab", { name: "Dead-letter queue" }).click();
    await page.getByRole("checkbox", { name: `Select ${id}` }).check();
    await shot("workflows-dlq");
    await instances.updateContext({ id, context: { data: { ok: true } } });
    await page.getByRole("button", { name: "Retry selected (1)" }).click();
    await poll(() => page.getByRole("status").filter({ hasText: "retried" }).textContent()).toContain("1 retried");
    await poll(async () => (await instances.get({ id })).state).toBe(TaskInstance_State.COMPLETED);
    await page.getByRole("tab", { name: "Instances" }).click();
    await page.getByRole("button", { name: id }).click();
    await poll(() => page.getByTestId("instance-state").textContent()).toBe("COMPLETED");
    await shot("workflow-instance");
    await page.keyboard.press("Escape");
  });

  it("shows costs by day and by tag as a chart and a table", async () => {
    await platform.client(CostService).batchCreate({
      costs: [0, 1, 2].flatMap((d) => [
        { date: isoDay(d), cost: 10 + d, currency: "USD", resourceId: "vm-1", tags: { cluster: "cluster-a" } },
        { date: isoDay(d), cost: 5, currency: "USD", resourceId: "vm-2", tags: { cluster: "cluster-b" } },
      ]),
    });
    await page.getByRole("link", { name: "Costs" }).click();
    await page.getByLabel("Tag key").fill("cluster");
    await page.getByRole("button", { name: "Group by tag" }).click();
    await page.getByRole("img", { name: "Cost in USD by day by tags.cluster" }).waitFor();
    const table = page.getByRole("table", { name: "Cost rows" });
    await poll(() => table.textContent()).toContain("cluster-b");
    expect(await table.textContent()).toContain("12.00");
    expect(decodeURIComponent(page.url())).toContain("by=tags.cluster");
    await shot("costs");
  });

  it("charts a resource's metric over the last hour", async () => {
    const now = Date.now();
    const metrics = platform.client(MetricService);
    for (const [i, minutesAgo] of [5, 4, 3, 2, 1].entries()) {
      await metrics.push({ resourceId: "vm-e2e-0", metricName: "cpu.utilization", value: 20 + i * 10, unit: "%", timestamp: timestampFromMs(now - minutesAgo * 60_000) });
    }
    await page.getByRole("link", { name: "Metrics" }).click();
    await page.getByLabel("Resource ids").fill("vm-e2e-0");
    await page.getByLabel("Metric", { exact: true }).fill("cpu.utilization");
    await page.getByRole("button", { name: "Show" }).click();
    await page.getByRole("img", { name: "cpu.utilization avg of vm-e2e-0 over the last hour" }).waitFor();
    await poll(() => page.getByRole("region", { name: "Series of vm-e2e-0" }).textContent()).toContain("max 60.00");
    await shot("metrics");
  });

  it("lists a notification and opens its delivery attempts", async () => {
    await platform.client(NotificationService).send({ title: "Nightly collection finished", message: "450 resources, 3 errors", severity: Notification_Severity.WARNING });
    await page.getByRole("link", { name: "Notifications" }).click();
    await page.getByRole("button", { name: "Nightly collection finished" }).click();
    await poll(() => page.getByRole("dialog", { name: "Nightly collection finished" }).textContent()).toContain("450 resources, 3 errors");
    await shot("notifications");
    await page.keyboard.press("Escape");
  });

  it("shows users with their roles, and a new API key once", async () => {
    await page.getByRole("link", { name: "Identity" }).click();
    await page.getByRole("tab", { name: "Users & roles" }).click();
    await poll(() => page.getByRole("list", { name: "Role bindings of admin" }).textContent()).toContain("DOMAIN_ADMIN");
    await shot("identity-users");
    await page.getByRole("tab", { name: "API keys" }).click();
    await page.getByLabel("Key name").fill("console-e2e");
    await page.getByRole("button", { name: "Create API key" }).click();
    const key = (await page.getByTestId("new-api-key").textContent()) ?? "";
    await page.getByRole("button", { name: "I have stored it" }).click();
    // The key's banner is gone from the page before it is searched for the key.
    await page.getByTestId("new-api-key").waitFor({ state: "detached" });
    await poll(() => page.getByRole("table", { name: "API keys" }).textContent()).toContain("console-e2e");
    expect(key.length).toBeGreaterThan(16);
    expect(await page.content()).not.toContain(key);
  });

  it("lists the cron schedules on the workflow page", async () => {
    const sequence = await platform.client(SequenceService).create({ namespace: "default", name: "console-nightly", blocks: [{ type: "step", id: "noop", handler: "assert", params: { condition: "true" } }] });
    await platform.client(CronService).create({ namespace: "default", sequenceId: sequence.id, cronExpr: "0 0 2 * * * *", timezone: "UTC", enabled: false });
    await page.getByRole("link", { name: "Workflow instances" }).click();
    await page.getByRole("tab", { name: "Cron schedules" }).click();
    await poll(() => page.getByRole("table", { name: "Cron schedules" }).textContent()).toContain("0 0 2 * * * *");
    await shot("workflows-cron");
  });

  it("keeps the filtered view on a shared link (after signing in again)", async () => {
    await page.goto(`${gateway.url}/cloud-services?f=data.cluster:eq:cluster-a`);
    // The token lives in memory only: a fresh load asks to sign in, then shows the linked view.
    await page.getByLabel("Password").fill(ADMIN_PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("button", { name: "vm-e2e-0" }).waitFor();
    expect(await page.getByRole("button", { name: "vm-e2e-2" }).count()).toBe(0);
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("button", { name: "Sign in" }).waitFor();
  });
});
