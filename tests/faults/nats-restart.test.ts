// Issue 9 §2 "Faults": NATS dies in the middle of a collection job and comes back on the same port
// and store. Inventory, cloud-service and notification keep writing to Postgres meanwhile; their
// outboxes hold the events. Afterwards every event is on the stream once, every consumer applied it
// once: one "Collection Complete" notification, one sweep per task, one sweep result per task.
import { CloudServiceService } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_pb";
import { SecretService } from "@cloudforet/proto/cloudforet/identity/v1/secret_pb";
import { ServiceAccountService } from "@cloudforet/proto/cloudforet/identity/v1/service_account_pb";
import { WorkspaceService } from "@cloudforet/proto/cloudforet/identity/v1/workspace_pb";
import { CollectorService } from "@cloudforet/proto/cloudforet/inventory/v1/collector_pb";
import { Job_Status, JobService } from "@cloudforet/proto/cloudforet/inventory/v1/job_pb";
import { JobTask_Status, JobTaskService } from "@cloudforet/proto/cloudforet/inventory/v1/job_task_pb";
import { NotificationService } from "@cloudforet/proto/cloudforet/notification/v1/notification_pb";
import { createTestDatabase, type TestDatabase } from "@cloudforet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clientFor, value } from "./support/clients";
import { EventObserver } from "./support/event-observer";
import { pollUntil } from "./support/ports";
import { PrivateNats } from "./support/private-nats";
import { startProcessPlatform, type ProcessPlatform } from "./support/process-platform";
import { countBy, streamEvents } from "./support/stream-events";

const WORKSPACE = "ws-nats-faults";
const COLLECTOR = "collector-nats-faults";
const ACCOUNTS = Array.from({ length: 6 }, (_, i) => `sa-nats-faults-${i}`);
/** Tasks completed before NATS goes away; the rest complete during the outage. */
const BEFORE_OUTAGE = 3;
const NEW_PER_TASK = 2;

let database: TestDatabase | undefined;
let nats: PrivateNats | undefined;
let platform: ProcessPlatform | undefined;
let observer: EventObserver | undefined;

beforeAll(async () => {
  try {
    database = await createTestDatabase("faults_nats");
    nats = await PrivateNats.start();
    platform = await startProcessPlatform({
      services: ["inventory", "cloud-service", "notification"],
      env: { DATABASE_URL: database.url, NATS_URL: nats.url },
    });
    observer = await EventObserver.attach(nats.url);
  } catch (err) {
    await cleanup();
    throw err;
  }
}, 180_000);

async function cleanup(): Promise<void> {
  await observer?.close();
  await platform?.close();
  await nats?.destroy();
  await database?.drop().catch(() => {});
}

afterAll(cleanup, 60_000);

describe("NATS killed and restarted during a collection job", () => {
  it("delivers every event exactly once: one notification, one sweep per task", async () => {
    const { token } = platform!;
    const url = (name: string) => platform!.service(name).url;
    const inventory = platform!.service("inventory");

    // The seed's setup: a workspace, a secret, service accounts, a push collector.
    await clientFor(WorkspaceService, url("identity"), token).create({ workspaceId: WORKSPACE, name: WORKSPACE });
    const secret = await clientFor(SecretService, url("identity"), token).create({ name: "nats-faults-creds", workspaceId: WORKSPACE, data: { nutanix_host: "prism.local" } });
    for (const account of ACCOUNTS) {
      await clientFor(ServiceAccountService, url("identity"), token).create({ serviceAccountId: account, name: account, provider: "nutanix", workspaceId: WORKSPACE, secretId: secret.secretId });
    }
    await clientFor(CollectorService, url("inventory"), token).create({ collectorId: COLLECTOR, name: "NATS Faults", provider: "nutanix", workspaceId: WORKSPACE });

    // One resource per account from an earlier collection: each task's sweep must disconnect it once.
    const resources = clientFor(CloudServiceService, url("cloud-service"), token);
    const resource = (account: string, name: string, jobTaskId: string) => ({
      cloudServiceType: "compute.Instance",
      cloudServiceName: name,
      provider: "nutanix",
      account,
      workspaceId: WORKSPACE,
      collectorId: COLLECTOR,
      jobTaskId,
      reference: { resourceId: name },
    });
    for (const account of ACCOUNTS) await resources.upsert(resource(account, `${account}-stale`, "task-earlier"));

    const job = await clientFor(JobService, url("inventory"), token).create({ collectorId: COLLECTOR, name: "NATS faults job", serviceAccountIds: ACCOUNTS });
    const tasks = clientFor(JobTaskService, url("inventory"), token);
    const taskIds: string[] = [];
    const collect = async (account: string) => {
      const task = await tasks.create({ jobId: job.jobId, serviceAccountId: account, status: JobTask_Status.IN_PROGRESS });
      taskIds.push(task.jobTaskId);
      for (let i = 0; i < NEW_PER_TASK; i++) await resources.upsert(resource(account, `${account}-vm-${i}`, task.jobTaskId));
      await tasks.complete({ jobTaskId: task.jobTaskId, status: JobTask_Status.FINISHED, createdCount: NEW_PER_TASK });
    };

    for (const account of ACCOUNTS.slice(0, BEFORE_OUTAGE)) await collect(account);
    // Mid-job, with the last completion's events possibly still on their way to the broker.
    await nats!.stop("SIGKILL");
    await pollUntil(async () => (await inventory.readiness()) === 503, "inventory to report NATS unready", 30_000);

    // The job goes on without NATS: writes land in Postgres, events wait in the outboxes.
    for (const account of ACCOUNTS.slice(BEFORE_OUTAGE)) await collect(account);
    const ended = await clientFor(JobService, url("inventory"), token).get({ jobId: job.jobId });
    expect(ended.status).toBe(Job_Status.FINISHED);

    await nats!.start();
    for (const service of platform!.all()) await service.waitReady(60_000);

    // Notification raises the job's notice once, from job.finished published after the restart.
    const notifications = clientFor(NotificationService, url("notification"), token);
    const raised = async () => (await notifications.list({ query: { filter: [{ k: "tags.job_id", v: value(job.jobId), o: "eq" }] } })).results;
    await pollUntil(async () => (await raised()).length > 0, "the job's notification", 60_000, 250);

    // Each task's sweep result comes back to inventory once (a double sweep would count 2).
    const sweptTasks = async () => (await tasks.list({ query: { filter: [{ k: "job_id", v: value(job.jobId), o: "eq" }] } })).results;
    await pollUntil(async () => (await sweptTasks()).every((t) => t.disconnectedCount > 0), "every task's sweep result", 60_000, 250);

    // Give late duplicates (a redelivery, a second publish) the time to show before counting.
    await pollUntil(() => observer!.events("cloudforet.inventory.job.finished").length > 0, "the observer to see job.finished", 30_000);
    await new Promise((resolve) => setTimeout(resolve, 2_000));

    expect(await raised()).toHaveLength(1);
    expect((await raised())[0].title).toBe("Collection Complete: NATS Faults");
    expect((await sweptTasks()).map((t) => t.disconnectedCount)).toEqual(ACCOUNTS.map(() => 1));
    const stale = await resources.list({ query: { filter: [{ k: "name", v: value("-stale"), o: "contain" }] } });
    expect(stale.results.map((r) => r.state)).toEqual(ACCOUNTS.map(() => "DISCONNECTED"));

    // On the stream: every event once (no id twice), and one per task / job as the producers wrote them.
    const onStream = await streamEvents(nats!.url);
    expect([...countBy(onStream, (e) => e.id)].filter(([, n]) => n > 1), "event ids stored twice").toEqual([]);
    const ofJob = (subject: string) => onStream.filter((e) => e.subject === subject && [job.jobId, ...taskIds].includes(String((e.data as Record<string, unknown>).job_id ?? (e.data as Record<string, unknown>).job_task_id)));
    const taskOf = (e: { data: unknown }) => String((e.data as Record<string, unknown>).job_task_id);
    const completed = onStream.filter((e) => e.subject === "cloudforet.inventory.job_task.completed");
    const swept = onStream.filter((e) => e.subject === "cloudforet.cloud_service.cloud_service.swept");
    expect(completed.map(taskOf).sort()).toEqual([...taskIds].sort());
    expect(swept.map(taskOf).sort()).toEqual([...taskIds].sort());
    expect(ofJob("cloudforet.inventory.job.finished")).toHaveLength(1);

    // The consumer attached by the test got each of them (deduped by id, as every consumer must).
    const observed = (subject: string) => observer!.events(subject).map(taskOf).sort();
    expect(observed("cloudforet.inventory.job_task.completed")).toEqual([...taskIds].sort());
    expect(observed("cloudforet.cloud_service.cloud_service.swept")).toEqual([...taskIds].sort());
    expect(observer!.events("cloudforet.inventory.job.finished")).toHaveLength(1);
    expect(observer!.deliveries.size).toBe(onStream.length);
    console.info(
      `NATS restart mid-job: ${onStream.length} events on the stream, each once; observer redeliveries: ${observer!.redeliveries()}; ` +
        `${ACCOUNTS.length - BEFORE_OUTAGE} of ${ACCOUNTS.length} tasks completed during the outage`,
    );
  }, 180_000);
});
