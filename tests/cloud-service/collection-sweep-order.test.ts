// The end-of-collection sweep must not depend on the order completions are processed in: two
// cloud-service replicas on one durable consumer, two inventory relays or a backlog after a NATS
// outage all deliver an older task's `job_task.completed` after a newer one's. A task only
// disconnects (and counts a miss for) what was last collected before it started.
import { cloudServiceModule } from "@cloudforet/cloud-service";
import { createEvent, openEventBus, type EventBus } from "@cloudforet/events";
import { CloudServiceService } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_pb";
import { WorkspaceService } from "@cloudforet/proto/cloudforet/identity/v1/workspace_pb";
import { createLogger, startService, type RunningService } from "@cloudforet/runtime";
import { waitFor } from "@cloudforet/testing";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PrivateNats } from "../faults/support/private-nats";
import { startTestPlatform, type TestPlatform } from "../support/platform";

const WORKSPACE = "ws-sweep-order";
const COMPLETED = "cloudforet.inventory.job_task.completed";
const SWEPT = "cloudforet.cloud_service.cloud_service.swept";

// A NATS server of this file's own: the services' stream and durable names are fixed, so on the
// shared server they would take events of other test files running at the same time.
let nats: PrivateNats | undefined;
let platform: TestPlatform | undefined;
let secondReplica: RunningService | undefined;
let bus: EventBus | undefined;
let sql: postgres.Sql;

beforeAll(async () => {
  nats = await PrivateNats.start();
  platform = await startTestPlatform({ modules: [cloudServiceModule], env: { NATS_URL: nats.url } });
  // A second cloud-service on the same database and NATS: the same durable consumer, two replicas.
  secondReplica = await startService(cloudServiceModule, {
    DATABASE_URL: platform.databaseUrl,
    NATS_URL: nats.url,
    CLOUD_SERVICE_ADDR: "127.0.0.1:0",
    IDENTITY_URL: platform.url("identity"),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
  });
  bus = await openEventBus({ url: nats.url, logger: createLogger("sweep-order-test", "silent") });
  sql = postgres(platform.databaseUrl, { max: 2, onnotice: () => {} });
  await platform.client(WorkspaceService).create({ workspaceId: WORKSPACE, name: WORKSPACE });
}, 120_000);

afterAll(async () => {
  await bus?.close();
  await sql?.end();
  await secondReplica?.close();
  await platform?.close();
  await nats?.destroy();
}, 60_000);

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The database's clock, which stamps collections and (in inventory) a task's start. */
async function taskStart(): Promise<string> {
  await pause(5);
  const [{ now }] = await sql<{ now: Date }[]>`select clock_timestamp() as now`;
  await pause(5);
  return now.toISOString();
}

/** What a collection task writes for one resource. */
async function collect(collectorId: string, account: string, jobTaskId: string, names: string[]): Promise<void> {
  const resources = platform!.client(CloudServiceService);
  for (const name of names) {
    await resources.upsert({ cloudServiceType: "compute.Instance", cloudServiceName: name, provider: "nutanix", account, workspaceId: WORKSPACE, collectorId, jobTaskId, reference: { resourceId: name }, collectorRulesApplied: true });
  }
}

/** Inventory's `job_task.completed`, as an inventory that sends the task's start writes it. */
function completed(collectorId: string, account: string, jobTaskId: string, startedAt: string | undefined) {
  return createEvent({
    subject: COMPLETED,
    domainId: platform!.admin.domainId,
    data: { job_id: `job-of-${jobTaskId}`, job_task_id: jobTaskId, collector_id: collectorId, service_account_id: account, status: "FINISHED", ...(startedAt ? { started_at: startedAt } : {}) },
  });
}

interface SweptRow {
  job_task_id: string;
  disconnected_count: number;
  deleted_count: number;
}

/** The `swept` events cloud-service wrote (its outbox), by task. */
async function sweptEvents(collectorId: string): Promise<SweptRow[]> {
  return sql<SweptRow[]>`
    select payload->'data'->>'job_task_id' as job_task_id, (payload->'data'->>'disconnected_count')::int as disconnected_count,
      (payload->'data'->>'deleted_count')::int as deleted_count
    from cloud_service.outbox where subject = ${SWEPT} and payload->'data'->>'collector_id' = ${collectorId}
    order by sequence`;
}

async function waitForSwept(collectorId: string, count: number): Promise<SweptRow[]> {
  await waitFor(async () => (await sweptEvents(collectorId)).length >= count, 30_000, `${count} swept events of ${collectorId}`);
  return sweptEvents(collectorId);
}

/** name → [state, miss_count] of a collector's resources. */
async function states(collectorId: string): Promise<Record<string, [string, number]>> {
  const rows = await sql<{ name: string; state: string; miss_count: number }[]>`
    select name, state, miss_count from cloud_service.cloud_services where collector_id = ${collectorId} order by name`;
  return Object.fromEntries(rows.map((r) => [r.name, [r.state, r.miss_count]]));
}

describe("the collection sweep, completions out of order", () => {
  it("an older task's completion after a newer one's leaves what the newer task collected ACTIVE", async () => {
    const collector = "collector-order";
    const account = "sa-order";
    await collect(collector, account, "task-earlier", ["vm-stale"]);
    const startedA = await taskStart();
    await collect(collector, account, "task-a", ["vm-1", "vm-2", "vm-3", "vm-only-a"]);
    const startedB = await taskStart();
    await collect(collector, account, "task-b", ["vm-1", "vm-2", "vm-3"]);

    // B's completion is processed first, then A's (a backlog, a slow replica).
    await bus!.publish(completed(collector, account, "task-b", startedB));
    await waitForSwept(collector, 1);
    await bus!.publish(completed(collector, account, "task-a", startedA));
    const swept = await waitForSwept(collector, 2);

    expect(await states(collector)).toEqual({
      "vm-1": ["ACTIVE", 0],
      "vm-2": ["ACTIVE", 0],
      "vm-3": ["ACTIVE", 0],
      // Collected by A only, before B started: B missed it.
      "vm-only-a": ["DISCONNECTED", 1],
      // Missed by both.
      "vm-stale": ["DISCONNECTED", 2],
    });
    expect(swept).toEqual([
      { job_task_id: "task-b", disconnected_count: 2, deleted_count: 0 },
      { job_task_id: "task-a", disconnected_count: 1, deleted_count: 0 },
    ]);
  });

  it("a completion without started_at (an older inventory) sweeps nothing", async () => {
    const collector = "collector-legacy";
    const account = "sa-legacy";
    await collect(collector, account, "task-legacy-1", ["vm-old"]);
    await collect(collector, account, "task-legacy-2", ["vm-new"]);
    await bus!.publish(completed(collector, account, "task-legacy-2", undefined));
    expect(await waitForSwept(collector, 1)).toEqual([{ job_task_id: "task-legacy-2", disconnected_count: 0, deleted_count: 0 }]);
    expect(await states(collector)).toEqual({ "vm-new": ["ACTIVE", 0], "vm-old": ["ACTIVE", 0] });
  });
});

describe("two cloud-service replicas sweeping at once", () => {
  it("apply each completion once, whatever the order: right counts, one swept event per task", async () => {
    const collector = "collector-replicas";
    const accounts = ["sa-rep-1", "sa-rep-2", "sa-rep-3", "sa-rep-4"];
    const events = [];
    for (const account of accounts) {
      await collect(collector, account, `task-${account}-0`, [`${account}-stale`]);
      // Three collections in a row, each seeing the two live VMs; the stale one is missed three times.
      for (const round of [1, 2, 3]) {
        const startedAt = await taskStart();
        await collect(collector, account, `task-${account}-${round}`, [`${account}-vm-1`, `${account}-vm-2`]);
        events.push(completed(collector, account, `task-${account}-${round}`, startedAt));
      }
    }
    // Newest first, all at once: both replicas pull from the one durable consumer.
    await Promise.all(events.reverse().map((event) => bus!.publish(event)));
    const swept = await waitForSwept(collector, events.length);
    await pause(1_000); // a second sweep of any task would show by now

    const after = await sweptEvents(collector);
    expect(after.map((s) => s.job_task_id).sort()).toEqual(events.map((e) => (e.data as { job_task_id: string }).job_task_id).sort());
    for (const account of accounts) {
      const ofAccount = swept.filter((s) => s.job_task_id.startsWith(`task-${account}-`));
      expect(ofAccount.reduce((n, s) => n + s.disconnected_count, 0), account).toBe(2);
      expect(ofAccount.reduce((n, s) => n + s.deleted_count, 0), account).toBe(1);
    }
    const expected: Record<string, [string, number]> = {};
    for (const account of accounts) {
      expected[`${account}-stale`] = ["DELETED", 3];
      expected[`${account}-vm-1`] = ["ACTIVE", 0];
      expected[`${account}-vm-2`] = ["ACTIVE", 0];
    }
    expect(await states(collector)).toEqual(expected);
  });
});
