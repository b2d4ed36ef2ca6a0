import { fileURLToPath } from "node:url";
import { invalidParameter } from "@cloudforet/errors";
import { migrate, openDatabase, queryRows, type DatabaseHandle } from "@cloudforet/db";
import { sql } from "drizzle-orm";
import { createLogger, type Caller } from "@cloudforet/runtime";
import { createTestDatabase, type TestDatabase } from "@cloudforet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CloudServiceTypeRepository } from "../cloud-service-types/repository";
import type { ProjectDirectory } from "../projects/project-directory";
import { CollectionRepository } from "./collection-repository";
import { CloudServiceRepository } from "./repository";
import { ResourceWriter, type WriteAccess } from "./resource-writer";
import type { ResourceInput } from "./cloud-services";

const logger = createLogger("cloud-service-test", "silent");
let database: TestDatabase;
let handle: DatabaseHandle;
let resources: CloudServiceRepository;
let collected: CollectionRepository;
let writer: ResourceWriter;

const projects: ProjectDirectory = {
  async workspaceOf(projectId) {
    if (projectId === "project-prod-001") return "ws-prod";
    throw invalidParameter("Project not found or not accessible", { parameter: "project_id", value: projectId });
  },
};
const adminOf = (domainId: string): Caller => ({ domainId, userId: "admin", workspaceIds: [], domainAdmin: true, roles: [{ role: "DOMAIN_ADMIN" }] });
const admin: WriteAccess = { caller: adminOf("domain-a"), scope: { domainId: "domain-a" }, defaultWorkspaceId: "", authorization: null };

function vm(id: string, extra: Partial<ResourceInput> = {}): ResourceInput {
  return {
    cloudServiceType: "compute.Instance",
    cloudServiceGroup: "Nutanix",
    cloudServiceName: `vm-${id}`,
    provider: "nutanix",
    account: "sa-1",
    data: { state: "ON", cpu_cores: 4 },
    tags: { env: "prod" },
    reference: { resource_id: id, external_link: "" },
    projectId: "",
    workspaceId: "",
    collectorId: "collector-1",
    jobTaskId: "task-1",
    matchRules: [],
    ...extra,
  };
}

beforeAll(async () => {
  database = await createTestDatabase("cs_writer");
  handle = await openDatabase({ url: database.url, schema: "cloud_service", logger });
  await migrate(handle, { migrationsFolder: fileURLToPath(new URL("../../drizzle", import.meta.url)), schema: "cloud_service", logger });
  const types = new CloudServiceTypeRepository(handle.db, () => {});
  await types.ensureBuiltins();
  resources = new CloudServiceRepository(handle.db);
  collected = new CollectionRepository(handle.db);
  writer = new ResourceWriter(resources, collected, types, projects, logger);
});

/** The database's clock, which stamps collections (a task's start comes from it too). */
async function databaseNow(): Promise<Date> {
  const [row] = await queryRows<{ now: Date }>(handle.db, sql`select clock_timestamp() as now`);
  return new Date(row.now);
}

afterAll(async () => {
  await handle?.close();
  await database?.drop();
});

describe("ResourceWriter.upsert", () => {
  it("creates, then updates the same resources in a batch, counting each", async () => {
    const first = await writer.upsert(admin, Array.from({ length: 1200 }, (_, i) => vm(`r-${i}`)));
    expect(first.filter((o) => o.ok && o.created)).toHaveLength(1200);
    const second = await writer.upsert(admin, Array.from({ length: 1200 }, (_, i) => vm(`r-${i}`, { data: { state: "OFF" }, tags: { team: "a" }, jobTaskId: "task-2" })));
    expect(second.filter((o) => o.ok && !o.created)).toHaveLength(1200);
    const { total_count } = await resources.list({ domainId: "domain-a" }, { count_only: true }, false);
    expect(total_count).toBe(1200);
    const [one] = (await resources.list({ domainId: "domain-a" }, { filter: [{ k: "reference.resource_id", v: "r-7" }] }, false)).results;
    expect(one).toMatchObject({ state: "OFF", data: { state: "OFF" }, tags: { env: "prod", team: "a" }, job_task_id: "task-2" });
  });

  it("applies a key repeated in one batch in order (the last one wins, created once)", async () => {
    const outcomes = await writer.upsert(admin, [vm("dup", { data: { n: 1 } }), vm("dup", { data: { n: 2 } }), vm("dup", { data: { n: 3 } })]);
    expect(outcomes.map((o) => o.ok && o.created)).toEqual([true, false, false]);
    const [row] = (await resources.list({ domainId: "domain-a" }, { filter: [{ k: "reference.resource_id", v: "dup" }] }, false)).results;
    expect(row.data).toEqual({ n: 3 });
  });

  it("fails bad items alone", async () => {
    const outcomes = await writer.upsert(admin, [
      vm("ok-1"),
      vm("bad-type", { cloudServiceType: "compute.Nope" }),
      invalidParameter("not an item", { parameter: "items[2]" }),
      vm("bad-project", { projectId: "project-missing" }),
      vm("no-provider", { provider: "" }),
      vm("nan", { data: { x: Number.NaN } }),
      vm("ok-2"),
    ]);
    expect(outcomes.map((o) => o.ok)).toEqual([true, false, false, false, false, false, true]);
    expect(outcomes[1]).toMatchObject({ ok: false, resourceId: "bad-type", error: { code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "cloud_service_type", value: "compute.Nope" } } });
    expect(outcomes[3]).toMatchObject({ error: { metadata: { parameter: "project_id" } } });
    expect(outcomes[4]).toMatchObject({ error: { message: "Missing required field", metadata: { parameter: "provider" } } });
  });

  it("matches by custom rules and refuses an ambiguous match", async () => {
    await writer.upsert(admin, [vm("x-1", { cloudServiceName: "twin", data: { serial: "S1" } }), vm("x-2", { cloudServiceName: "twin", data: { serial: "S2" } })]);
    const bySerial = await writer.upsert(admin, [vm("", { cloudServiceName: "twin", data: { serial: "S2", state: "OFF" }, matchRules: [["data.serial"]] })]);
    expect(bySerial[0]).toMatchObject({ ok: true, created: false });
    const byName = await writer.upsert(admin, [vm("", { cloudServiceName: "twin", matchRules: [["name", "provider"]] })]);
    expect(byName[0]).toMatchObject({ ok: false, error: { code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "match_rules[0]" } } });
    const fallThrough = await writer.upsert(admin, [vm("x-1", { cloudServiceName: "nobody", matchRules: [["name"], ["reference.resource_id", "provider", "cloud_service_type"]] })]);
    expect(fallThrough[0]).toMatchObject({ ok: true, created: false });
  });

  it("keeps tenants apart: the same key in another domain is another resource", async () => {
    const other: WriteAccess = { caller: adminOf("domain-b"), scope: { domainId: "domain-b" }, defaultWorkspaceId: "", authorization: null };
    const outcomes = await writer.upsert(other, [vm("r-1")]);
    expect(outcomes[0]).toMatchObject({ ok: true, created: true });
    expect((await resources.list({ domainId: "domain-b" }, {}, false)).total_count).toBe(1);
  });

  it("sweeps resources a finished collection missed: DISCONNECTED, then DELETED at the third miss", async () => {
    await writer.upsert(admin, [vm("s-1", { collectorId: "c-s", jobTaskId: "t1" }), vm("s-2", { collectorId: "c-s", jobTaskId: "t1" })]);
    const sweep = (task: string, startedAt: Date) =>
      handle.db.transaction((tx) => collected.sweepMissed(tx, { domainId: "domain-a", collectorId: "c-s", account: "sa-1", jobTaskId: task, startedAt }));
    for (const [task, expected] of [["t2", { disconnectedCount: 1, deletedCount: 0 }], ["t3", { disconnectedCount: 1, deletedCount: 0 }], ["t4", { disconnectedCount: 0, deletedCount: 1 }]] as const) {
      const startedAt = await databaseNow();
      await writer.upsert(admin, [vm("s-1", { collectorId: "c-s", jobTaskId: task })]);
      expect(await sweep(task, startedAt)).toEqual(expected);
    }
    const gone = await resources.list({ domainId: "domain-a" }, { filter: [{ k: "reference.resource_id", v: "s-2" }] }, true);
    expect(gone.results[0]).toMatchObject({ state: "DELETED" });
    expect(gone.results[0].deleted_at).toBeInstanceOf(Date);
    // Seen again, it comes back.
    const back = await writer.upsert(admin, [vm("s-2", { collectorId: "c-s", jobTaskId: "t5" })]);
    expect(back[0]).toMatchObject({ ok: true, created: false });
  });
});
