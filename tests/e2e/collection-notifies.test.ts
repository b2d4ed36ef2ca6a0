// Seed 000's walkthrough across services: a push collector finishes its job in inventory, and
// notification raises "Collection Complete" on its own, from the job.finished event.
import { cloudServiceModule } from "@cloudforet/cloud-service";
import { inventoryModule } from "@cloudforet/inventory";
import { notificationModule } from "@cloudforet/notification";
import { CollectorService } from "@cloudforet/proto/cloudforet/inventory/v1/collector_pb";
import { JobService } from "@cloudforet/proto/cloudforet/inventory/v1/job_pb";
import { JobTask_Status, JobTaskService } from "@cloudforet/proto/cloudforet/inventory/v1/job_task_pb";
import { Notification_Severity, NotificationService } from "@cloudforet/proto/cloudforet/notification/v1/notification_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNutanixAccounts, freePort } from "../inventory/inventory-platform";
import { startTestPlatform, type TestPlatform } from "../support/platform";

let platform: TestPlatform;

beforeAll(async () => {
  const cloudServicePort = await freePort();
  platform = await startTestPlatform({
    modules: [cloudServiceModule, inventoryModule, notificationModule],
    env: { CLOUD_SERVICE_ADDR: `127.0.0.1:${cloudServicePort}`, CLOUD_SERVICE_URL: `http://127.0.0.1:${cloudServicePort}` },
  });
}, 120_000);

afterAll(async () => {
  await platform?.close();
});

describe("a finished collection job notifies without anyone calling Send", () => {
  it("inventory's job.finished becomes the seed's 'Collection Complete' notification, once", async () => {
    const secretId = await createNutanixAccounts(platform, platform.admin, "ws-nutanix", ["sa-prod-cluster-01"]);
    await platform.client(CollectorService).create({ collectorId: "collector-nutanix-001", name: "Nutanix Plugin", provider: "nutanix", workspaceId: "ws-nutanix" });
    const job = await platform.client(JobService).create({
      collectorId: "collector-nutanix-001",
      name: "Nutanix Collection Job",
      serviceAccountIds: ["sa-prod-cluster-01"],
    });
    const tasks = platform.client(JobTaskService);
    const task = await tasks.create({ jobId: job.jobId, serviceAccountId: "sa-prod-cluster-01", secretId, status: JobTask_Status.CREATED });
    await tasks.updateProgress({ jobTaskId: task.jobTaskId, status: JobTask_Status.IN_PROGRESS, progress: 35 });
    await tasks.complete({ jobTaskId: task.jobTaskId, status: JobTask_Status.FINISHED, createdCount: 450, updatedCount: 0, deletedCount: 12, errorCount: 3 });

    const notifications = platform.client(NotificationService);
    const raised = async () => (await notifications.list({})).results.filter((n) => n.tags.job_id === job.jobId);
    await expect.poll(async () => (await raised()).length, { timeout: 15_000, interval: 200 }).toBe(1);
    const [notice] = await raised();
    expect(notice).toMatchObject({
      title: "Collection Complete: Nutanix Plugin",
      message: "Successfully collected 450 resources. 3 errors occurred.",
      severity: Notification_Severity.WARNING,
      isRead: false,
    });
    expect(notice.tags).toMatchObject({ collector_id: "collector-nutanix-001", job_id: job.jobId, error_count: "3" });
    await new Promise((r) => setTimeout(r, 500));
    expect(await raised()).toHaveLength(1);
  });
});
