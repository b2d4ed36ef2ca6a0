import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { DescService } from "@bufbuild/protobuf";
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { cloudServiceModule } from "@cloudforet/cloud-service";
import { decodeError } from "@cloudforet/errors";
import { inventoryModule } from "@cloudforet/inventory";
import { CloudServiceService } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_pb";
import { CollectorService } from "@cloudforet/proto/cloudforet/inventory/v1/collector_pb";
import { Job_Status, JobService } from "@cloudforet/proto/cloudforet/inventory/v1/job_pb";
import { JobTask_Status, JobTaskService } from "@cloudforet/proto/cloudforet/inventory/v1/job_task_pb";
import { servePlugin, type ServedPlugin } from "@cloudforet/plugin-sdk";
import { startService, type RunningService } from "@cloudforet/runtime";
import { TEST_OUTBOUND_ALLOW, testNatsUrl } from "@cloudforet/testing";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, startTestPlatform, type TestPlatform } from "../support/platform";
import { createNutanixAccounts } from "./inventory-platform";
import { pluginHold, testPlugin } from "./test-plugin";

// Pull collection survives the replica running it: handed back on a graceful stop, reclaimed
// after the lease when the replica dies. Two inventory replicas share one database and one NATS.

let platform: TestPlatform;
let plugin: ServedPlugin;
let sql: postgres.Sql;
const replicas: RunningService[] = [];
const children: ChildProcess[] = [];
const text = (value: string) => ({ kind: { case: "stringValue" as const, value } });
const CREDENTIALS_KEYS = `test:${Buffer.alloc(32, 9).toString("base64")}`;

beforeAll(async () => {
  plugin = await servePlugin(testPlugin, { host: "127.0.0.1", port: 0 });
  platform = await startTestPlatform({ modules: [cloudServiceModule], env: { NATS_URL: testNatsUrl() } });
  sql = postgres(platform.databaseUrl, { max: 2, onnotice: () => {} });
  await createNutanixAccounts(platform, platform.admin, "ws-replicas", ["sa-handback", "sa-crash"]);
}, 120_000);

afterAll(async () => {
  pluginHold.open();
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await Promise.all(replicas.map((replica) => replica.close().catch(() => {})));
  await sql?.end();
  await platform?.close();
  await plugin?.close();
});

/** What every inventory replica of these tests is configured with (as in production: one database, one NATS, one key). */
function replicaEnv(replicaId: string, leaseMs: number): Record<string, string> {
  return {
    DATABASE_URL: platform.databaseUrl,
    NATS_URL: testNatsUrl(),
    INVENTORY_ADDR: "127.0.0.1:0",
    IDENTITY_URL: platform.url("identity"),
    CLOUD_SERVICE_URL: platform.url("cloud-service"),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    CLOUDFORET_OUTBOUND_ALLOW: TEST_OUTBOUND_ALLOW,
    INVENTORY_CREDENTIALS_KEYS: CREDENTIALS_KEYS,
    INVENTORY_REPLICA_ID: replicaId,
    INVENTORY_PULL_LEASE_MS: String(leaseMs),
    INVENTORY_PULL_POLL_MS: "1000",
  };
}

async function startReplica(replicaId: string, leaseMs: number): Promise<RunningService> {
  const replica = await startService(inventoryModule, replicaEnv(replicaId, leaseMs));
  replicas.push(replica);
  return replica;
}

/** A replica in a process of its own, which the test can SIGKILL. */
async function spawnReplica(replicaId: string, leaseMs: number): Promise<{ url: string; kill(): Promise<void> }> {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
  const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "tests/inventory/replica-process.ts")], {
    cwd: root,
    env: { ...process.env, ...replicaEnv(replicaId, leaseMs) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  const stderr: string[] = [];
  child.stderr!.on("data", (chunk) => stderr.push(String(chunk)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`replica ${replicaId} did not start: ${stderr.join("").slice(-2000)}`)), 90_000);
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (!line.includes('"ready"')) return;
      clearTimeout(timer);
      resolve((JSON.parse(line) as { url: string }).url);
    });
    child.once("exit", (code) => reject(new Error(`replica ${replicaId} exited (${code}): ${stderr.join("").slice(-2000)}`)));
  });
  return {
    url,
    async kill() {
      child.kill("SIGKILL");
      await exited;
    },
  };
}

const clientOf = <S extends DescService>(service: S, url: string): Client<S> =>
  createClient(service, createConnectTransport({ baseUrl: url, httpVersion: "2", interceptors: [bearer(platform.admin.token)] }));

interface TaskLease {
  job_task_id: string;
  status: string;
  lease_owner: string | null;
  checkpoint: number;
  created_count: number;
}

async function taskOf(jobId: string): Promise<TaskLease> {
  const [task] = await sql<TaskLease[]>`select job_task_id, status, lease_owner, checkpoint, created_count from inventory.job_tasks where job_id = ${jobId}`;
  return task;
}

async function waitUntil<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A collector whose plugin serves 500 VMs slowly and stops after 200 until the test opens the hold. */
async function createSlowCollector(url: string, collectorId: string) {
  await clientOf(CollectorService, url).create({
    collectorId,
    name: collectorId,
    provider: "nutanix",
    workspaceId: "ws-replicas",
    pluginInfo: { endpoint: plugin.url, options: { count: 500, delay_every: 10, delay_ms: 15, hold_after: 200 } },
  });
}

async function expectExactResult(url: string, jobId: string, collectorId: string) {
  const job = await clientOf(JobService, url).get({ jobId });
  expect(job).toMatchObject({ status: Job_Status.FINISHED, createdCount: 500, updatedCount: 0, errorCount: 0, succeededTaskCount: 1, progress: 100 });
  const [task] = (await clientOf(JobTaskService, url).list({ query: { filter: [{ k: "job_id", v: text(jobId) }] } })).results;
  expect(task).toMatchObject({ status: JobTask_Status.FINISHED, createdCount: 500, updatedCount: 0, errorCount: 0, progress: 100 });
  const resources = clientOf(CloudServiceService, platform.url("cloud-service"));
  const listed = await resources.list({ query: { filter: [{ k: "collector_id", v: text(collectorId) }], page: { limit: 1000 } } as never });
  expect(listed.totalCount).toBe(500);
  const ids = listed.results.map((r) => r.reference?.resourceId);
  expect(new Set(ids).size).toBe(500);
  // Finished once: one finish event, whatever replicas touched it.
  const [{ finished }] = await sql<{ finished: number }[]>`
    select count(*)::int as finished from inventory.outbox
    where subject = 'cloudforet.inventory.job.finished' and payload->'data'->>'job_id' = ${jobId}`;
  expect(finished).toBe(1);
}

/** Collect is no longer refused with CONFLICT: a new job runs (and updates the same 500). */
async function expectCollectAgain(url: string, collectorId: string, accountId: string) {
  const again = await clientOf(CollectorService, url).collect({ collectorId, serviceAccountIds: [accountId] });
  expect(again.status).toBe(Job_Status.CREATED);
  const job = await waitUntil(() => clientOf(JobService, url).get({ jobId: again.jobId }), (j) => j.status === Job_Status.FINISHED, 60_000, "the second collection");
  expect(job).toMatchObject({ createdCount: 0, updatedCount: 500 });
}

describe("a pull collection outlives the replica running it", () => {
  it("a replica that shuts down hands its task back; the other resumes from the checkpoint and finishes with exact counts", async () => {
    pluginHold.close();
    const a = await startReplica("replica-a", 15_000);
    const b = await startReplica("replica-b", 15_000);
    await createSlowCollector(a.url, "collector-handback");
    const started = await clientOf(CollectorService, a.url).collect({ collectorId: "collector-handback", serviceAccountIds: ["sa-handback"], options: { batch_size: 50 } });

    // The 4 batches before the hold are written and checkpointed by whichever replica claimed the task.
    const held = await waitUntil(() => taskOf(started.jobId), (t) => t.checkpoint === 200, 60_000, "200 items checkpointed");
    expect(held).toMatchObject({ status: "IN_PROGRESS", created_count: 200 });
    const [running, other] = held.lease_owner === "replica-a" ? [a, b] : [b, a];
    expect(held.lease_owner).toBe(running === a ? "replica-a" : "replica-b");
    const conflict = await clientOf(CollectorService, other.url)
      .collect({ collectorId: "collector-handback", serviceAccountIds: ["sa-handback"] })
      .then(() => expect.fail("expected a conflict"), (err) => decodeError(err));
    expect(conflict).toMatchObject({ code: "ERROR_CONFLICT" });

    const stoppedAt = Date.now();
    await running.close();
    replicas.splice(replicas.indexOf(running), 1);
    // Handed back: the lease is cleared at once, not left to expire. Its release NOTIFYs, so the other
    // replica may already have claimed it; either way the stopped replica no longer holds it.
    expect([null, other === a ? "replica-a" : "replica-b"]).toContain((await taskOf(started.jobId)).lease_owner);
    pluginHold.open();

    await waitUntil(() => clientOf(JobService, other.url).get({ jobId: started.jobId }), (j) => j.status === Job_Status.FINISHED, 30_000, "the job to finish");
    // Well under one 15 s lease, let alone three: nobody waited for an expiry.
    expect(Date.now() - stoppedAt).toBeLessThan(15_000);
    await expectExactResult(other.url, started.jobId, "collector-handback");
    await expectCollectAgain(other.url, "collector-handback", "sa-handback");
    // The next test chooses which replica runs its job.
    await other.close();
    replicas.splice(replicas.indexOf(other), 1);
  }, 180_000);

  it("a replica that dies keeps its lease until it expires; another reclaims the task and finishes with exact counts", async () => {
    pluginHold.close();
    const leaseMs = 2000;
    const doomed = await spawnReplica("replica-doomed", leaseMs);
    await createSlowCollector(doomed.url, "collector-crash");
    const started = await clientOf(CollectorService, doomed.url).collect({ collectorId: "collector-crash", serviceAccountIds: ["sa-crash"], options: { batch_size: 50 } });
    const held = await waitUntil(() => taskOf(started.jobId), (t) => t.checkpoint === 200, 60_000, "200 items checkpointed");
    expect(held).toMatchObject({ status: "IN_PROGRESS", lease_owner: "replica-doomed", created_count: 200 });
    const survivor = await startReplica("replica-survivor", leaseMs);

    const killedAt = Date.now();
    await doomed.kill();
    pluginHold.open();
    // Until the lease runs out the task stays with the dead replica.
    expect((await taskOf(started.jobId)).lease_owner).toBe("replica-doomed");

    await waitUntil(() => clientOf(JobService, survivor.url).get({ jobId: started.jobId }), (j) => j.status === Job_Status.FINISHED, 30_000, "the job to finish");
    const elapsed = Date.now() - killedAt;
    expect(elapsed).toBeGreaterThanOrEqual(leaseMs - 500);
    expect(elapsed).toBeLessThan(leaseMs * 5);
    await expectExactResult(survivor.url, started.jobId, "collector-crash");
    await expectCollectAgain(survivor.url, "collector-crash", "sa-crash");
  }, 180_000);
});
