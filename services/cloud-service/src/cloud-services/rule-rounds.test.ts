import { fileURLToPath } from "node:url";
import { migrate, openDatabase, type DatabaseHandle } from "@cloudforet/db";
import { createLogger, type Caller } from "@cloudforet/runtime";
import { createTestDatabase, startStatementCounter, type StatementCounter, type TestDatabase } from "@cloudforet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CloudServiceTypeRepository } from "../cloud-service-types/repository";
import type { ProjectDirectory } from "../projects/project-directory";
import type { ResourceInput } from "./cloud-services";
import { CollectionRepository } from "./collection-repository";
import { CloudServiceRepository } from "./repository";
import { ResourceWriter, type WriteAccess } from "./resource-writer";

// Custom match rules in a batch: O(rules) statements, and the same outcome as item by item.

const logger = createLogger("cloud-service-test", process.env.RULES_LOG ? "warn" : "silent");
let database: TestDatabase;
let counter: StatementCounter;
let handle: DatabaseHandle;
let resources: CloudServiceRepository;
let writer: ResourceWriter;

const projects: ProjectDirectory = {
  async workspaceOf() {
    return "ws-prod";
  },
};
const caller: Caller = { domainId: "domain-r", userId: "admin", workspaceIds: [], domainAdmin: true, roles: [{ role: "DOMAIN_ADMIN" }] };
const admin: WriteAccess = { caller, scope: { domainId: "domain-r" }, defaultWorkspaceId: "", authorization: null };

function vm(serial: string, extra: Partial<ResourceInput> = {}): ResourceInput {
  return {
    cloudServiceType: "compute.Instance",
    cloudServiceGroup: "Nutanix",
    cloudServiceName: `vm-${serial}`,
    provider: "nutanix",
    account: "sa-1",
    data: { state: "ON", serial, hw: { uuid: `u-${serial}` } },
    tags: {},
    reference: { resource_id: "", external_link: "" },
    projectId: "",
    workspaceId: "",
    collectorId: "collector-r",
    jobTaskId: "task-1",
    matchRules: [["data.hw.uuid"], ["name", "account"]],
    ...extra,
  };
}

const rows = async (name: string) => (await resources.list({ domainId: "domain-r" }, { filter: [{ k: "name", v: name }] }, true)).results;

beforeAll(async () => {
  database = await createTestDatabase("cs_rules");
  counter = await startStatementCounter(database.url);
  handle = await openDatabase({ url: counter.url, schema: "cloud_service", logger });
  await migrate(handle, { migrationsFolder: fileURLToPath(new URL("../../drizzle", import.meta.url)), schema: "cloud_service", logger });
  const types = new CloudServiceTypeRepository(handle.db, () => {});
  await types.ensureBuiltins();
  resources = new CloudServiceRepository(handle.db);
  writer = new ResourceWriter(resources, new CollectionRepository(handle.db), types, projects, logger);
});

afterAll(async () => {
  await handle?.close();
  await counter?.close();
  await database?.drop();
});

describe("upsert by custom match rules", () => {
  it("costs O(rules) statements for a batch, not O(items)", async () => {
    const count = async (n: number, offset: number, extra: Partial<ResourceInput> = {}) => {
      counter.reset();
      const outcomes = await writer.upsert(admin, Array.from({ length: n }, (_, i) => vm(`s-${offset + i}`, extra)));
      return { outcomes, statements: counter.roundTrips() };
    };
    const small = await count(5, 0);
    const large = await count(300, 1000);
    expect(large.outcomes.every((o) => o.ok && o.created)).toBe(true);
    // catalog + one lookup per rule + insert; the same for 5 items as for 300
    expect(large.statements).toBeLessThanOrEqual(6);
    expect(large.statements).toBe(small.statements);
    // All existing, matched by the first rule: catalog + lookup + update, and the change history of
    // the update in its transaction (begin, one insert of every item's changes, commit).
    const again = await count(300, 1000, { tags: { seen: "2" } });
    expect(again.outcomes.every((o) => o.ok && !o.created)).toBe(true);
    expect(again.statements).toBeLessThanOrEqual(6);
    const few = await count(5, 1000, { tags: { seen: "3" } });
    expect(few.statements).toBe(again.statements);
  });

  it("decides each item as one by one would: a later item matches what an earlier one wrote", async () => {
    const outcomes = await writer.upsert(admin, [
      vm("seq-1", { data: { serial: "seq-1", hw: { uuid: "shared" }, n: 1 } }),
      vm("seq-1b", { cloudServiceName: "vm-seq-x", data: { hw: { uuid: "shared" }, n: 2 } }),
      vm("seq-2", { cloudServiceName: "vm-seq-x", data: { hw: { uuid: "other" }, n: 3 } }),
    ]);
    // 1 creates; 2 matches 1's uuid and renames it; 3 matches by name and account (its uuid is new).
    expect(outcomes.map((o) => o.ok && o.created)).toEqual([true, false, false]);
    expect(outcomes[1]).toMatchObject({ cloudServiceId: (outcomes[0] as { cloudServiceId: string }).cloudServiceId });
    expect(outcomes[2]).toMatchObject({ cloudServiceId: (outcomes[0] as { cloudServiceId: string }).cloudServiceId });
    const [row] = await rows("vm-seq-x");
    expect(row.data).toMatchObject({ n: 3, hw: { uuid: "other" } });
  });

  it("looks again at a resource an earlier item of the batch changed (no stale ambiguity)", async () => {
    const byUuid = [["data.hw.uuid"]];
    const [x, y] = await writer.upsert(admin, [
      vm("st-x", { cloudServiceName: "pair", account: "sa-st", matchRules: byUuid }),
      vm("st-y", { cloudServiceName: "pair", account: "sa-st", matchRules: byUuid }),
    ]);
    const outcomes = await writer.upsert(admin, [
      // renames x by its uuid; one by one, the next item then finds only y by name and account
      vm("st-x", { cloudServiceName: "renamed", account: "sa-st" }),
      vm("st-none", { cloudServiceName: "pair", account: "sa-st" }),
    ]);
    expect(outcomes[0]).toMatchObject({ ok: true, created: false, cloudServiceId: (x as { cloudServiceId: string }).cloudServiceId });
    expect(outcomes[1]).toMatchObject({ ok: true, created: false, cloudServiceId: (y as { cloudServiceId: string }).cloudServiceId });
  });

  it("refuses an ambiguous match and creates when no rule applies", async () => {
    const byUuid = [["data.hw.uuid"]];
    await writer.upsert(admin, [vm("amb-1", { cloudServiceName: "twin", account: "sa-amb", matchRules: byUuid }), vm("amb-2", { cloudServiceName: "twin", account: "sa-amb", matchRules: byUuid })]);
    const outcomes = await writer.upsert(admin, [
      vm("amb-3", { cloudServiceName: "twin", account: "sa-amb" }),
      vm("none", { data: {}, cloudServiceName: "vm-none", account: "" }),
    ]);
    expect(outcomes[0]).toMatchObject({ ok: false, error: { code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "match_rules[1]" } } });
    expect(outcomes[1]).toMatchObject({ ok: true, created: true });
  });
});
