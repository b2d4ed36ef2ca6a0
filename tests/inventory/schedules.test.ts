// Collector schedules under two inventory replicas: fired on time and once, skipped while the
// previous job runs, and run under the workspace's service identity, which outlives its user.
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { cloudServiceModule } from "@cloudforet/cloud-service";
import { decodeError } from "@cloudforet/errors";
import { inventoryModule } from "@cloudforet/inventory";
import { CollectorService, ScheduleFire_Outcome } from "@cloudforet/proto/cloudforet/inventory/v1/collector_pb";
import { Job_Status, JobService } from "@cloudforet/proto/cloudforet/inventory/v1/job_pb";
import { UserService } from "@cloudforet/proto/cloudforet/identity/v1/user_pb";
import { WorkspaceService } from "@cloudforet/proto/cloudforet/identity/v1/workspace_pb";
import { servePlugin, type ServedPlugin } from "@cloudforet/plugin-sdk";
import { startService, type RunningService } from "@cloudforet/runtime";
import { testNatsUrl } from "@cloudforet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPlatform, type Identity, type TestPlatform } from "../support/platform";
import { createNutanixAccounts } from "./inventory-platform";
import { clientAt, firesOf, ms, scheduleReplicaEnv, text, waitUntil } from "./schedule-support";
import { testPlugin } from "./test-plugin";

let platform: TestPlatform;
let plugin: ServedPlugin;
let owner: Identity;
const replicas: RunningService[] = [];

beforeAll(async () => {
  plugin = await servePlugin(testPlugin, { host: "127.0.0.1", port: 0 });
  // Service tokens live 6 s, so a 10 s collection must re-mint on the way.
  platform = await startTestPlatform({ modules: [cloudServiceModule], env: { NATS_URL: testNatsUrl(), IDENTITY_SERVICE_TOKEN_TTL_SECONDS: "6" } });
  await createNutanixAccounts(platform, platform.admin, "ws-sched", ["sa-sched-1"]);
  owner = await platform.createWorkspaceUser(platform.admin, "owner-sched", "WORKSPACE_OWNER", "ws-sched");
  replicas.push(await startService(inventoryModule, scheduleReplicaEnv(platform, "sched-a")));
  replicas.push(await startService(inventoryModule, scheduleReplicaEnv(platform, "sched-b")));
}, 120_000);

afterAll(async () => {
  await Promise.all(replicas.map((replica) => replica.close().catch(() => {})));
  await platform?.close();
  await plugin?.close();
});

describe("collector schedules", () => {
  it("an interval schedule fires on time, once per fire time, across two replicas; Get shows the next fire; disabling stops it", async () => {
    const [a, b] = replicas;
    const created = await clientAt(CollectorService, a.url, owner.token).create({
      collectorId: "collector-every-2s",
      name: "every 2 s",
      provider: "nutanix",
      workspaceId: "ws-sched",
      pluginInfo: { endpoint: plugin.url, options: { count: 2 } },
      schedule: { enabled: true, intervalSeconds: 2 },
    });
    const createdAt = Date.now();
    expect(created.schedule).toMatchObject({ enabled: true, intervalSeconds: 2, cron: "" });
    const firstFire = timestampDate(created.schedule!.nextFireAt!).getTime();
    expect(Math.abs(firstFire - (createdAt + 2000))).toBeLessThan(1500);

    const fires = await waitUntil(() => firesOf(b.url, owner.token, "collector-every-2s"), (f) => f.filter((x) => x.outcome === ScheduleFire_Outcome.STARTED).length >= 4, 40_000, "four started fires");
    const disabled = await clientAt(CollectorService, b.url, owner.token).disableSchedule({ collectorId: "collector-every-2s" });
    expect(disabled.collector?.schedule).toMatchObject({ enabled: false });
    expect(disabled.collector?.schedule?.nextFireAt).toBeUndefined();

    const settled = await firesOf(a.url, owner.token, "collector-every-2s");
    expect(settled.length).toBeGreaterThanOrEqual(fires.length);
    // One fire per fire time, none missed: consecutive fire times are exactly one interval apart...
    for (let i = 1; i < settled.length; i++) expect(ms(settled[i], "scheduledAt") - ms(settled[i - 1], "scheduledAt")).toBe(2000);
    expect(ms(settled[0], "scheduledAt")).toBe(firstFire);
    // ...each acted on within a few seconds of its time, never before it.
    for (const fire of settled) {
      expect(ms(fire, "createdAt")).toBeGreaterThanOrEqual(ms(fire, "scheduledAt") - 50);
      expect(ms(fire, "createdAt") - ms(fire, "scheduledAt")).toBeLessThan(4000);
    }
    // ...and every started fire is exactly one job, started by the schedule.
    const jobs = await clientAt(JobService, a.url, owner.token).list({ query: { filter: [{ k: "collector_id", v: text("collector-every-2s") }], page: { limit: 1000 } } });
    const started = settled.filter((f) => f.outcome === ScheduleFire_Outcome.STARTED);
    expect(jobs.totalCount).toBe(started.length);
    expect(new Set(jobs.results.map((j) => j.jobId))).toEqual(new Set(started.map((f) => f.jobId)));
    expect(jobs.results.every((j) => j.startedBy === "schedule")).toBe(true);
    // The list query language knows started_by.
    const bySchedule = await clientAt(JobService, a.url, owner.token).list({ query: { filter: [{ k: "started_by", v: text("schedule") }, { k: "collector_id", v: text("collector-every-2s") }], countOnly: true } });
    expect(bySchedule.totalCount).toBe(started.length);

    // Disabled: no more fires.
    await new Promise((resolve) => setTimeout(resolve, 4500));
    expect((await firesOf(a.url, owner.token, "collector-every-2s")).length).toBe(settled.length);
  }, 90_000);

  it("a collection started by the schedule completes under the service identity after its user was deleted, re-minting its token; fires meanwhile are skipped", async () => {
    const [a, b] = replicas;
    const leaving = await platform.createWorkspaceUser(platform.admin, "owner-leaving", "WORKSPACE_OWNER", "ws-sched");
    await clientAt(CollectorService, a.url, leaving.token).create({
      collectorId: "collector-slow",
      name: "slow",
      provider: "nutanix",
      workspaceId: "ws-sched",
      // 30 VMs at 330 ms each: about 10 s, longer than a 6 s service token.
      pluginInfo: { endpoint: plugin.url, options: { count: 30, delay_every: 1, delay_ms: 330 } },
      schedule: { enabled: true, intervalSeconds: 2 },
    });
    // The user who set the schedule goes; their token stops working everywhere.
    await platform.client(UserService).delete({ userId: "owner-leaving" });
    const refused = await platform.client(WorkspaceService, leaving).get({ workspaceId: "ws-sched" }).then(() => undefined, decodeError);
    expect(refused).toMatchObject({ code: "ERROR_AUTHENTICATE_FAILURE" });

    const fires = await waitUntil(() => firesOf(b.url, owner.token, "collector-slow"), (f) => f.some((x) => x.outcome === ScheduleFire_Outcome.STARTED), 30_000, "a started fire");
    const jobId = fires.find((f) => f.outcome === ScheduleFire_Outcome.STARTED)!.jobId;
    const job = await waitUntil(() => clientAt(JobService, a.url, owner.token).get({ jobId }), (j) => j.status !== Job_Status.CREATED && j.status !== Job_Status.IN_PROGRESS, 60_000, "the scheduled job to end");
    expect(job).toMatchObject({ status: Job_Status.FINISHED, errorCount: 0, startedBy: "schedule" });
    // The two VMs the 2 s collector already stored are updated, the rest created: all 30 written.
    expect(job.createdCount + job.updatedCount).toBe(30);
    expect(job.createdCount).toBeGreaterThanOrEqual(28);
    expect(timestampDate(job.finishedAt!).getTime() - timestampDate(job.startedAt!).getTime()).toBeGreaterThan(6000);

    // While it ran, the fires that came due were skipped, naming the running job and why.
    const during = await clientAt(CollectorService, a.url, owner.token).listScheduleFires({
      query: { filter: [{ k: "collector_id", v: text("collector-slow") }, { k: "outcome", v: text("SKIPPED") }] },
    });
    expect(during.totalCount).toBeGreaterThanOrEqual(2);
    expect(during.results.filter((f) => f.jobId === jobId).length).toBeGreaterThanOrEqual(2);
    expect(during.results[0].reason).toContain("still running");
    await clientAt(CollectorService, a.url, owner.token).disableSchedule({ collectorId: "collector-slow" });
  }, 120_000);

  it("validates schedules and the new RPCs' input", async () => {
    const collectors = clientAt(CollectorService, replicas[0].url, owner.token);
    const fail = (p: Promise<unknown>) => p.then(() => expect.fail("expected a failure"), decodeError);
    expect(await fail(collectors.create({ name: "x", provider: "nutanix", workspaceId: "ws-sched", schedule: { intervalSeconds: -5 } }))).toMatchObject({
      code: "ERROR_INVALID_PARAMETER",
      metadata: { parameter: "schedule.interval_seconds" },
    });
    expect(await fail(collectors.create({ name: "x", provider: "nutanix", workspaceId: "ws-sched", schedule: { intervalSeconds: 5, cron: "* * * * *" } }))).toMatchObject({
      metadata: { parameter: "schedule.interval_seconds" },
    });
    expect(await fail(collectors.enableSchedule({ collectorId: "" }))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "collector_id" } });
    expect(await fail(collectors.enableSchedule({ collectorId: "collector-missing" }))).toMatchObject({ code: "ERROR_NOT_FOUND" });
    await collectors.create({ collectorId: "collector-unscheduled", name: "x", provider: "nutanix", workspaceId: "ws-sched", pluginInfo: { endpoint: plugin.url } });
    expect(await fail(collectors.enableSchedule({ collectorId: "collector-unscheduled" }))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "collector_id" } });
    expect(await fail(collectors.listScheduleFires({ query: { filter: [{ k: "no_such_key", v: text("x") }] } }))).toMatchObject({ code: "ERROR_INVALID_PARAMETER" });
    const member = await platform.createWorkspaceUser(platform.admin, "member-sched", "WORKSPACE_MEMBER", "ws-sched");
    await collectors.update({ collectorId: "collector-unscheduled", schedule: { enabled: false, cron: "0 3 * * *", timezone: "Asia/Seoul" } });
    expect(await fail(clientAt(CollectorService, replicas[0].url, member.token).enableSchedule({ collectorId: "collector-unscheduled" }))).toMatchObject({ code: "ERROR_PERMISSION_DENIED" });
    const enabled = await collectors.enableSchedule({ collectorId: "collector-unscheduled" });
    const next = timestampDate(enabled.collector!.schedule!.nextFireAt!);
    // 03:00 in Seoul is 18:00 UTC, within the next day.
    expect(next.getUTCHours()).toBe(18);
    expect(next.getUTCMinutes()).toBe(0);
    expect(next.getTime() - Date.now()).toBeLessThanOrEqual(24 * 3600 * 1000);
    expect((await collectors.get({ collectorId: "collector-unscheduled" })).schedule?.nextFireAt).toEqual(enabled.collector!.schedule!.nextFireAt);
    await collectors.disableSchedule({ collectorId: "collector-unscheduled" });
  }, 60_000);
});
