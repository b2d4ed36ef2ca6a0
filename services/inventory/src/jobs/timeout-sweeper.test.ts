import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { migrate, openDatabase, queryRows, type DatabaseHandle } from "@cloudforet/db";
import { createLogger } from "@cloudforet/runtime";
import { createTestDatabase, waitFor, type TestDatabase } from "@cloudforet/testing";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PluginClients } from "../collection/plugin-clients";
import { CollectionCredentials } from "../collection/collection-credentials";
import { PullCollection } from "../collection/pull-collection";
import { PullLeases } from "../collection/pull-leases";
import { cloudServiceSink } from "../collection/resource-sink";
import { identityDirectory } from "../identity-directory";
import { JobTasks } from "../job-tasks/job-tasks";
import { JobTaskRepository } from "../job-tasks/repository";
import { JobRepository } from "./repository";
import { startTimeoutSweeper } from "./timeout-sweeper";
import { PluginRouter } from "../plugins/plugin-router";
import { PluginRepository } from "../plugins/repository";

const silent = createLogger("inventory-test", "silent");
let database: TestDatabase;
const handles: DatabaseHandle[] = [];

/** One inventory replica's sweeper: its own connection pool and store, and a log we can read. */
function replica(handle: DatabaseHandle, sweep: { intervalMs: number; idleIntervalMs?: number; notifications?: boolean } = { intervalMs: 25 }) {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger(
    "inventory",
    "info",
    new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    }),
  );
  const store = new JobRepository(handle.db, () => {});
  const identity = identityDirectory("http://127.0.0.1:9", silent);
  const pull = new PullCollection({
    tasks: new JobTasks(new JobTaskRepository(handle.db, () => {}), store, identity),
    identity,
    plugins: new PluginClients(silent, 1_000),
    pluginRouter: new PluginRouter(new PluginRepository(handle.db), silent),
    sink: cloudServiceSink("http://127.0.0.1:9", silent),
    logger: silent,
    concurrency: 1,
    // Never started here: only the sweeper runs.
    leases: new PullLeases(handle.db),
    credentials: new CollectionCredentials([{ kid: "test", key: Buffer.alloc(32, 7) }]),
    replicaId: "sweeper-test",
    leaseMs: 15_000,
    pollMs: 1000,
  });
  return { store, lines, sweeper: startTimeoutSweeper({
      jobs: store,
      pull,
      logger,
      intervalMs: sweep.intervalMs,
      idleIntervalMs: sweep.idleIntervalMs,
      notifications: sweep.notifications ? handle.notifications : undefined,
    }),
  };
}

beforeAll(async () => {
  database = await createTestDatabase("inv_timeout");
  // Two replicas, and a third connection that plays a concurrent writer.
  for (let i = 0; i < 3; i++) handles.push(await openDatabase({ url: database.url, schema: "inventory", logger: silent }));
  await migrate(handles[0], { migrationsFolder: fileURLToPath(new URL("../../drizzle", import.meta.url)), schema: "inventory", logger: silent });
});

afterAll(async () => {
  for (const handle of handles) await handle.close();
  await database?.drop();
});

describe("the job timeout sweeper on two replicas", () => {
  it("times a job out once: one replica ends it and logs it", async () => {
    const store = new JobRepository(handles[0].db, () => {});
    const job = await store.createJob({
      domainId: "domain-a",
      workspaceId: "ws-a",
      collectorId: "collector-a",
      name: "expired",
      serviceAccountIds: ["sa-1"],
      options: {},
      timeoutAt: new Date(Date.now() - 60_000),
    });

    // Something else (a task's completion) holds the job while both replicas look at it, so
    // both see it expired before either can end it.
    let release!: () => void;
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const holding = handles[2].db.transaction(async (tx) => {
      await queryRows(tx, sql`select job_id from inventory.jobs where job_id = ${job.jobId} for update`);
      locked();
      await new Promise<void>((resolve) => (release = resolve));
    });
    await isLocked;
    const replicas = [replica(handles[0]), replica(handles[1])];
    await new Promise((resolve) => setTimeout(resolve, 500));
    release();
    await holding;

    const timedOut = () => replicas.flatMap((r) => r.lines.filter((line) => line.msg === "job timed out"));
    await waitFor(async () => (await store.getJob({ domainId: "domain-a" }, job.jobId))?.status === "TIMEOUT", 10_000, "the job to time out");
    await new Promise((resolve) => setTimeout(resolve, 500)); // the other replica's sweeps come and go
    await Promise.all(replicas.map((r) => r.sweeper.stop()));

    expect(timedOut()).toEqual([expect.objectContaining({ level: "warn", job_id: job.jobId, collector_id: "collector-a" })]);
    const [{ events }] = await queryRows<{ events: number }>(
      handles[2].db,
      sql`select count(*)::int as events from inventory.outbox
          where subject = 'cloudforet.inventory.job.finished' and payload->'data'->>'job_id' = ${job.jobId} and payload->'data'->>'status' = 'TIMEOUT'`,
    );
    expect(events).toBe(1);
  });

  it("ends a job at its timeout, learnt from the NOTIFY of its creation, with no scan in between", async () => {
    // Both intervals are a minute: only the job's own NOTIFY and the timer to its timeout can act in time.
    const sweeping = replica(handles[0], { intervalMs: 60_000, idleIntervalMs: 60_000, notifications: true });
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // the first look is done; it sleeps
    const store = new JobRepository(handles[1].db, () => {}); // another replica creates the job
    const timeoutAt = new Date(Date.now() + 1_000);
    const job = await store.createJob({
      domainId: "domain-b",
      workspaceId: "ws-b",
      collectorId: "collector-b",
      name: "soon",
      serviceAccountIds: ["sa-1"],
      options: {},
      timeoutAt,
    });
    await waitFor(async () => (await store.getJob({ domainId: "domain-b" }, job.jobId))?.status === "TIMEOUT", 5_000, "the job to time out");
    expect(Date.now() - timeoutAt.getTime()).toBeLessThan(2_000);
    await sweeping.sweeper.stop();
  });
});
