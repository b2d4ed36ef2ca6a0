// `job_task.completed` carries the task's start (`started_at`) by the database's clock: cloud-service's
// sweep compares it with collection times stamped by the same clock, so neither a process clock nor
// the `updated_at` a plugin sends may set it.
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { CollectorService } from "@cloudforet/proto/cloudforet/inventory/v1/collector_pb";
import { JobService } from "@cloudforet/proto/cloudforet/inventory/v1/job_pb";
import { JobTask_Status, JobTaskService } from "@cloudforet/proto/cloudforet/inventory/v1/job_task_pb";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestPlatform } from "../support/platform";
import { createNutanixAccounts, startInventoryPlatform } from "./inventory-platform";

const WORKSPACE = "ws-started-at";
const ACCOUNTS = ["sa-started-1", "sa-started-2"];
let platform: TestPlatform;
let sql: postgres.Sql;

beforeAll(async () => {
  platform = await startInventoryPlatform();
  sql = postgres(platform.databaseUrl, { max: 2, onnotice: () => {} });
  await createNutanixAccounts(platform, platform.admin, WORKSPACE, ACCOUNTS);
}, 120_000);

afterAll(async () => {
  await sql?.end();
  await platform?.close();
});

/** The data of the `job_task.completed` event inventory wrote for a task (its outbox). */
async function completedEvent(jobTaskId: string): Promise<Record<string, unknown>> {
  const [row] = await sql<{ data: Record<string, unknown> }[]>`
    select payload->'data' as data from inventory.outbox
    where subject = 'cloudforet.inventory.job_task.completed' and payload->'data'->>'job_task_id' = ${jobTaskId}`;
  return row.data;
}

async function taskRow(jobTaskId: string) {
  const [row] = await sql<{ started_at: Date | null; created_at: Date }[]>`select started_at, created_at from inventory.job_tasks where job_task_id = ${jobTaskId}`;
  return row;
}

describe("job_task.completed carries started_at", () => {
  it("from the database row: the database's clock, not the updated_at a plugin sends; created_at if it never started", async () => {
    await platform.client(CollectorService).create({ collectorId: "collector-started-at", name: "Started At", provider: "nutanix", workspaceId: WORKSPACE });
    const job = await platform.client(JobService).create({ collectorId: "collector-started-at", name: "started-at job", serviceAccountIds: ACCOUNTS });
    const tasks = platform.client(JobTaskService);
    const [{ before }] = await sql<{ before: Date }[]>`select clock_timestamp() as before`;

    const started = await tasks.create({ jobId: job.jobId, serviceAccountId: ACCOUNTS[0], status: JobTask_Status.CREATED });
    // A plugin with a wrong clock reports its progress.
    await tasks.updateProgress({ jobTaskId: started.jobTaskId, status: JobTask_Status.IN_PROGRESS, progress: 10, updatedAt: timestampFromDate(new Date("2001-02-03T04:05:06Z")) });
    await tasks.complete({ jobTaskId: started.jobTaskId, status: JobTask_Status.FINISHED, createdCount: 1 });

    const neverStarted = await tasks.create({ jobId: job.jobId, serviceAccountId: ACCOUNTS[1], status: JobTask_Status.CREATED });
    await tasks.complete({ jobTaskId: neverStarted.jobTaskId, status: JobTask_Status.FINISHED });

    const first = await taskRow(started.jobTaskId);
    expect(first.started_at!.getTime()).toBeGreaterThanOrEqual(Math.floor(before.getTime()));
    expect(await completedEvent(started.jobTaskId)).toMatchObject({ job_task_id: started.jobTaskId, status: "FINISHED", started_at: first.started_at!.toISOString() });

    const second = await taskRow(neverStarted.jobTaskId);
    expect(second.started_at).toEqual(second.created_at);
    expect(await completedEvent(neverStarted.jobTaskId)).toMatchObject({ job_task_id: neverStarted.jobTaskId, started_at: second.created_at.toISOString() });
  });
});
