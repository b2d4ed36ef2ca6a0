// A killed inventory resumes its schedules (one catch-up fire for the fires it missed), finished jobs
// past the retention are pruned while young and running ones stay, and a task whose plugin stops
// answering fails with the plugin's last error instead of staying IN_PROGRESS.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { cloudServiceModule } from "@cloudforet/cloud-service";
import { CollectorService } from "@cloudforet/proto/cloudforet/inventory/v1/collector_pb";
import { Job_Status, JobService } from "@cloudforet/proto/cloudforet/inventory/v1/job_pb";
import { JobTask_Status, JobTaskService } from "@cloudforet/proto/cloudforet/inventory/v1/job_task_pb";
import { servePlugin, type ServedPlugin } from "@cloudforet/plugin-sdk";
import { freePort, startServiceProcess, testNatsUrl, type ServiceProcess } from "@cloudforet/testing";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPlatform, type TestPlatform } from "../support/platform";
import { createNutanixAccounts } from "./inventory-platform";
import { clientAt, firesOf, ms, scheduleReplicaEnv, text, waitUntil } from "./schedule-support";
import { pluginHold, testPlugin } from "./test-plugin";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
let platform: TestPlatform;
let plugin: ServedPlugin;
let inventory: ServiceProcess;
let sql: postgres.Sql;
let token: string;

beforeAll(async () => {
  plugin = await servePlugin(testPlugin, { host: "127.0.0.1", port: 0 });
  platform = await startTestPlatform({ modules: [cloudServiceModule], env: { NATS_URL: testNatsUrl() } });
  token = platform.admin.token;
  sql = postgres(platform.databaseUrl, { max: 2, onnotice: () => {} });
  await createNutanixAccounts(platform, platform.admin, "ws-hygiene", ["sa-hyg-1"]);
  const port = await freePort();
  inventory = await startServiceProcess({
    root,
    name: "inventory",
    port,
    env: scheduleReplicaEnv(platform, "hygiene-1", {
      INVENTORY_ADDR: `127.0.0.1:${port}`,
      INVENTORY_PLUGIN_IDLE_TIMEOUT_S: "3",
      INVENTORY_JOB_RETENTION_DAYS: "1",
      INVENTORY_JOB_PRUNE_INTERVAL_S: "1",
      INVENTORY_PULL_LEASE_MS: "3000",
    }),
    readyTimeoutMs: 90_000,
  });
}, 150_000);

afterAll(async () => {
  pluginHold.open();
  await inventory?.stop().catch(() => {});
  await sql?.end();
  await platform?.close();
  await plugin?.close();
});

describe("schedules survive a killed inventory; job hygiene", () => {
  it("a killed inventory resumes its schedule: the fires it missed are caught up once, then the schedule keeps its phase", async () => {
    await clientAt(CollectorService, inventory.url, token).create({
      collectorId: "collector-resume",
      name: "resume",
      provider: "nutanix",
      workspaceId: "ws-hygiene",
      pluginInfo: { endpoint: plugin.url, options: { count: 2 } },
      schedule: { enabled: true, intervalSeconds: 3 },
    });
    await waitUntil(() => firesOf(inventory.url, token, "collector-resume"), (f) => f.length >= 1, 30_000, "a first fire");
    await inventory.kill();
    const killedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 8000));
    inventory.start();
    await inventory.waitReady();

    const fires = await waitUntil(
      () => firesOf(inventory.url, token, "collector-resume"),
      (f) => f.filter((x) => ms(x, "createdAt") > killedAt).length >= 3,
      60_000,
      "three fires after the restart",
    );
    const before = fires.filter((f) => ms(f, "createdAt") <= killedAt);
    const after = fires.filter((f) => ms(f, "createdAt") > killedAt);
    const last = before.at(-1)!;
    // At least two fire times passed while no inventory ran...
    expect(ms(after[0], "createdAt") - ms(last, "scheduledAt")).toBeGreaterThan(6000);
    // ...and they were caught up once: the first missed time fired, late, and no other missed one.
    expect(ms(after[0], "scheduledAt")).toBe(ms(last, "scheduledAt") + 3000);
    expect(ms(after[0], "createdAt") - ms(after[0], "scheduledAt")).toBeGreaterThan(3000);
    // The next fire is the first grid time after the catch-up began (a catch-up that lands just past a
    // grid time on a loaded machine may see that one due at once): no older missed time fires again.
    expect(ms(after[1], "scheduledAt")).toBeGreaterThan(ms(after[0], "createdAt") - 3000);
    // The schedule keeps its phase and is on time again.
    for (const fire of after.slice(1)) {
      expect((ms(fire, "scheduledAt") - ms(last, "scheduledAt")) % 3000).toBe(0);
      expect(ms(fire, "createdAt") - ms(fire, "scheduledAt")).toBeLessThan(4000);
    }
    await clientAt(CollectorService, inventory.url, token).disableSchedule({ collectorId: "collector-resume" });
  }, 150_000);

  it("prunes finished jobs (and their tasks) and fires past the retention; young and running ones stay", async () => {
    const jobsClient = clientAt(JobService, inventory.url, token);
    // The schedule's jobs from the test above, ended either way: on a loaded machine a collection can
    // outlast the plugin idle timeout (3 s here) and end FAILURE, which the retention treats alike.
    const ended = <J extends { status: Job_Status }>(r: { results: J[] }) => r.results.filter((job) => job.status === Job_Status.FINISHED || job.status === Job_Status.FAILURE);
    const finished = await waitUntil(
      () => jobsClient.list({ query: { filter: [{ k: "collector_id", v: text("collector-resume") }] } }),
      (r) => ended(r).length >= 2,
      90_000,
      "two ended jobs",
    );
    const [old, young] = ended(finished);
    // A running job, created long ago (push-only: it waits for its plugin's tasks).
    await clientAt(CollectorService, inventory.url, token).create({ collectorId: "collector-push", name: "push", provider: "nutanix", workspaceId: "ws-hygiene" });
    const running = await jobsClient.create({ collectorId: "collector-push", serviceAccountIds: ["sa-hyg-1"] });
    await sql`update inventory.jobs set finished_at = now() - interval '2 days' where job_id = ${old.jobId}`;
    await sql`update inventory.jobs set created_at = now() - interval '10 days' where job_id = ${running.jobId}`;
    const fires = await firesOf(inventory.url, token, "collector-resume");
    await sql`update inventory.schedule_fires set created_at = now() - interval '3 days' where fire_id = ${fires[0].fireId}`;
    expect((await sql`select count(*)::int as n from inventory.job_tasks where job_id = ${old.jobId}`)[0].n).toBe(1);

    await waitUntil(async () => (await sql`select count(*)::int as n from inventory.jobs where job_id = ${old.jobId}`)[0].n as number, (n) => n === 0, 20_000, "the old job to be pruned");
    expect((await sql`select count(*)::int as n from inventory.job_tasks where job_id = ${old.jobId}`)[0].n).toBe(0);
    expect((await jobsClient.get({ jobId: young.jobId })).status).toBe(young.status);
    expect((await jobsClient.get({ jobId: running.jobId })).status).toBe(Job_Status.CREATED);
    const left = await firesOf(inventory.url, token, "collector-resume");
    expect(left.map((f) => f.fireId)).not.toContain(fires[0].fireId);
    expect(left.length).toBe(fires.length - 1);
    await jobsClient.cancel({ jobId: running.jobId });
  }, 150_000);

  it("a task whose plugin stops answering fails with the plugin's last error; its job ends FAILURE", async () => {
    pluginHold.close();
    try {
      await clientAt(CollectorService, inventory.url, token).create({
        collectorId: "collector-silent",
        name: "silent",
        provider: "nutanix",
        workspaceId: "ws-hygiene",
        // Item 2 is an item failure, then the plugin goes silent after 8 items with its stream open.
        pluginInfo: { endpoint: plugin.url, options: { count: 20, bad: [2], hold_after: 8 } },
      });
      const started = await clientAt(CollectorService, inventory.url, token).collect({ collectorId: "collector-silent", options: { batch_size: 4, timeout: 600 } });
      expect(started.startedBy).toBe("admin");
      const job = await waitUntil(() => clientAt(JobService, inventory.url, token).get({ jobId: started.jobId }), (j) => j.status !== Job_Status.CREATED && j.status !== Job_Status.IN_PROGRESS, 30_000, "the job to end");
      expect(job.status).toBe(Job_Status.FAILURE);
      // Well before its 600 s timeout.
      expect(Date.now() - Number(job.createdAt!.seconds) * 1000).toBeLessThan(30_000);
      const [task] = (await clientAt(JobTaskService, inventory.url, token).list({ query: { filter: [{ k: "job_id", v: text(started.jobId) }] } })).results;
      expect(task.status).toBe(JobTask_Status.FAILURE);
      const lastLine = task.errors.at(-1)!;
      expect(lastLine).toContain("the plugin stopped answering");
      expect(lastLine).toContain("vm-sa-hyg-1-2: permission denied reading VM");
      expect(task.createdCount + task.updatedCount).toBe(4);
    } finally {
      pluginHold.open();
    }
  }, 60_000);
});
