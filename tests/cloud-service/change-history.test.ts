// Change history (issue 16): every create, update, collected upsert, disconnect and delete of a
// resource records exactly the keys it changed, old and new, by whom, in the write's transaction;
// ChangeHistoryService.List pages and filters them; a retention sweeper prunes old ones.
import type { JsonValue } from "@bufbuild/protobuf";
import { toJson } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { Code, type Client } from "@connectrpc/connect";
import { cloudServiceModule } from "@cloudforet/cloud-service";
import { decodeError } from "@cloudforet/errors";
import { createEvent, openEventBus, type EventBus } from "@cloudforet/events";
import { ChangeHistoryService, type ChangeHistory } from "@cloudforet/proto/cloudforet/cloud_service/v1/change_history_pb";
import { CloudServiceService } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_pb";
import { ProjectService } from "@cloudforet/proto/cloudforet/identity/v1/project_pb";
import { WorkspaceService } from "@cloudforet/proto/cloudforet/identity/v1/workspace_pb";
import { createLogger } from "@cloudforet/runtime";
import { waitFor } from "@cloudforet/testing";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PrivateNats } from "../faults/support/private-nats";
import { startTestPlatform, type Identity, type TestPlatform } from "../support/platform";

const WS = "ws-history";
const COMPLETED = "cloudforet.inventory.job_task.completed";

let nats: PrivateNats | undefined;
let platform: TestPlatform;
let bus: EventBus | undefined;
let sql: postgres.Sql;
let resources: Client<typeof CloudServiceService>;
let history: Client<typeof ChangeHistoryService>;
let otherDomain: Identity;

const failure = (promise: Promise<unknown>) => promise.then(() => expect.fail("expected an error"), (err) => decodeError(err));
const text = (value: string) => ({ kind: { case: "stringValue" as const, value } });

beforeAll(async () => {
  // NATS of this file's own: the sweep's durable consumer name is fixed.
  nats = await PrivateNats.start();
  platform = await startTestPlatform({ modules: [cloudServiceModule], env: { NATS_URL: nats.url, CLOUD_SERVICE_HISTORY_SWEEP_SECONDS: "1", CLOUD_SERVICE_HISTORY_RETENTION_DAYS: "30" } });
  bus = await openEventBus({ url: nats.url, logger: createLogger("change-history-test", "silent") });
  sql = postgres(platform.databaseUrl, { max: 2, onnotice: () => {} });
  resources = platform.client(CloudServiceService);
  history = platform.client(ChangeHistoryService);
  await platform.client(WorkspaceService).create({ workspaceId: WS, name: WS });
  await platform.client(ProjectService).create({ projectId: "project-history", name: "History", workspaceId: WS });
  otherDomain = await platform.createDomainAdmin("domain-history-other");
}, 120_000);

afterAll(async () => {
  await bus?.close();
  await sql?.end();
  await platform?.close();
  await nats?.destroy();
}, 60_000);

/** A change as plain JSON: key → [before, after]. */
function diffOf(change: ChangeHistory): Record<string, [JsonValue, JsonValue]> {
  return Object.fromEntries(change.diff.map((d) => [d.key, [d.before ? toJson(ValueSchema, d.before) : null, d.after ? toJson(ValueSchema, d.after) : null]]));
}

async function changesOf(cloudServiceId: string): Promise<ChangeHistory[]> {
  const answer = await history.list({ cloudServiceId, query: { sort: { key: "created_at" } } });
  return answer.results;
}

describe("what each write records", () => {
  let id: string;

  it("Create records every key it set, by the user", async () => {
    const created = await resources.create({
      cloudServiceType: "compute.Instance",
      cloudServiceName: "web-01",
      provider: "nutanix",
      account: "sa-history",
      data: { power_state: "ON", cpu_cores: 4 },
      tags: { env: "dev" },
      reference: { resourceId: "vm-history-1" },
      projectId: "project-history",
    });
    id = created.cloudServiceId;
    const [change] = await changesOf(id);
    expect(change).toMatchObject({ action: "CREATE", updatedBy: "USER", authorId: "admin", userId: "admin", diffCount: 11, workspaceId: WS });
    expect(diffOf(change)).toEqual({
      account: [null, "sa-history"],
      cloud_service_type: [null, "compute.Instance"],
      "data.cpu_cores": [null, 4],
      "data.power_state": [null, "ON"],
      name: [null, "web-01"],
      project_id: [null, "project-history"],
      provider: [null, "nutanix"],
      "reference.resource_id": [null, "vm-history-1"],
      state: [null, "ACTIVE"],
      "tags.env": [null, "dev"],
      workspace_id: [null, WS],
    });
  });

  it("Update records only the changed data and tags keys and state, old and new", async () => {
    await resources.update({ cloudServiceId: id, data: { power_state: "OFF", cpu_cores: 4, memory_gb: 16 }, tags: { env: "prod", team: "web" }, state: "STOPPED" });
    const changes = await changesOf(id);
    expect(changes).toHaveLength(2);
    expect(changes[1]).toMatchObject({ action: "UPDATE", updatedBy: "USER", authorId: "admin", diffCount: 5 });
    expect(diffOf(changes[1])).toEqual({
      "data.memory_gb": [null, 16],
      "data.power_state": ["ON", "OFF"],
      state: ["ACTIVE", "STOPPED"],
      "tags.env": ["dev", "prod"],
      "tags.team": [null, "web"],
    });
  });

  it("an Update that changes nothing records nothing; removing a key records it as gone", async () => {
    await resources.update({ cloudServiceId: id, tags: { env: "prod" } });
    expect(await changesOf(id)).toHaveLength(2);
    await resources.update({ cloudServiceId: id, removeTags: ["team"], projectId: "" });
    const changes = await changesOf(id);
    expect(changes).toHaveLength(3);
    expect(diffOf(changes[2])).toEqual({ project_id: ["project-history", null], "tags.team": ["web", null] });
  });

  it("a collected upsert is the collection's change, and keys a collector rule set are the rule's", async () => {
    const answer = await resources.batchUpsert(
      (async function* () {
        yield {
          items: [
            {
              cloudServiceType: "compute.Instance",
              cloudServiceName: "web-01",
              provider: "nutanix",
              account: "sa-history",
              data: { power_state: "ON", cpu_cores: 4, memory_gb: 16 },
              tags: { env: "prod", owner: "ops" },
              reference: { resourceId: "vm-history-1" },
              workspaceId: WS,
              collectorId: "collector-history",
              jobTaskId: "task-history-1",
              jobId: "job-history-1",
              ruleChanges: { "tags.owner": "cr-owner" },
              // As inventory's pull path sends it (no inventory runs here to read push rules from).
              collectorRulesApplied: true,
            },
          ],
        };
      })(),
    );
    expect(answer).toMatchObject({ updatedCount: 1, failedCount: 0 });
    const changes = await changesOf(id);
    expect(changes).toHaveLength(5);
    const collected = changes.slice(3).find((c) => c.updatedBy === "COLLECTOR")!;
    const ruled = changes.slice(3).find((c) => c.updatedBy === "RULE")!;
    expect(collected).toMatchObject({ action: "UPDATE", authorId: "job-history-1", jobId: "job-history-1", jobTaskId: "task-history-1", collectorId: "collector-history", userId: "admin", collectorRuleId: "" });
    expect(diffOf(collected)).toEqual({ "data.power_state": ["OFF", "ON"], state: ["STOPPED", "ACTIVE"] });
    expect(ruled).toMatchObject({ action: "UPDATE", authorId: "cr-owner", collectorRuleId: "cr-owner", jobId: "job-history-1" });
    expect(diffOf(ruled)).toEqual({ "tags.owner": [null, "ops"] });
  });

  it("the same collection again records nothing", async () => {
    const answer = await resources.upsert({
      cloudServiceType: "compute.Instance",
      cloudServiceName: "web-01",
      provider: "nutanix",
      account: "sa-history",
      data: { power_state: "ON", cpu_cores: 4, memory_gb: 16 },
      tags: { env: "prod", owner: "ops" },
      reference: { resourceId: "vm-history-1" },
      workspaceId: WS,
      collectorId: "collector-history",
      jobTaskId: "task-history-2",
      collectorRulesApplied: true,
    });
    expect(answer.created).toBe(false);
    expect(await changesOf(id)).toHaveLength(5);
  });

  it("a finished collection that missed the resource records its disconnection, by the system", async () => {
    const [{ now }] = await sql<{ now: Date }[]>`select clock_timestamp() + interval '1 second' as now`;
    await bus!.publish(
      createEvent({
        subject: COMPLETED,
        domainId: platform.admin.domainId,
        data: { job_id: "job-history-3", job_task_id: "task-history-3", collector_id: "collector-history", service_account_id: "sa-history", status: "FINISHED", started_at: now.toISOString() },
      }),
    );
    await waitFor(async () => (await changesOf(id)).length === 6, 30_000, "the disconnect change");
    const [change] = (await changesOf(id)).slice(5);
    expect(change).toMatchObject({ action: "DISCONNECT", updatedBy: "SYSTEM", authorId: "task-history-3", jobTaskId: "task-history-3", collectorId: "collector-history" });
    expect(diffOf(change)).toEqual({ state: ["ACTIVE", "DISCONNECTED"] });
  });

  it("Delete records the state it ended; deleting again records nothing", async () => {
    await resources.delete({ cloudServiceId: id });
    await resources.delete({ cloudServiceId: id });
    const changes = await changesOf(id);
    expect(changes).toHaveLength(7);
    expect(changes[6]).toMatchObject({ action: "DELETE", updatedBy: "USER", authorId: "admin" });
    expect(diffOf(changes[6])).toEqual({ state: ["DISCONNECTED", "DELETED"] });
  });

  it("Get answers one change; an unknown one is NOT_FOUND", async () => {
    const [first] = await changesOf(id);
    const got = await history.get({ changeId: first.changeId });
    expect(got.change).toMatchObject({ changeId: first.changeId, action: "CREATE", cloudServiceId: id });
    const missing = await failure(history.get({ changeId: "ch-missing" }));
    expect(missing).toMatchObject({ grpcCode: Code.NotFound, code: "ERROR_NOT_FOUND" });
    const empty = await failure(history.get({ changeId: "" }));
    expect(empty).toMatchObject({ grpcCode: Code.InvalidArgument, code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "change_id" } });
  });
});

describe("authors", () => {
  it("a write by hand cannot name a collector rule as its author", async () => {
    const err = await failure(
      resources.upsert({ cloudServiceType: "compute.Instance", cloudServiceName: "spoof", provider: "nutanix", reference: { resourceId: "spoof" }, projectId: "project-history", ruleChanges: { "tags.x": "cr-fake" } }),
    );
    expect(err).toMatchObject({ grpcCode: Code.InvalidArgument, code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "rule_changes" } });
    const bad = await failure(
      resources.upsert({ cloudServiceType: "compute.Instance", cloudServiceName: "spoof", provider: "nutanix", reference: { resourceId: "spoof" }, projectId: "project-history", collectorId: "c", jobId: "bad job id!" }),
    );
    expect(bad).toMatchObject({ grpcCode: Code.InvalidArgument, metadata: { parameter: "job_id" } });
  });
});

describe("List", () => {
  const ids: string[] = [];

  beforeAll(async () => {
    for (const name of ["list-a", "list-b", "list-c"]) {
      const created = await resources.create({ cloudServiceType: "compute.Disk", cloudServiceName: name, provider: "nutanix", reference: { resourceId: name }, projectId: "project-history" });
      ids.push(created.cloudServiceId);
      await resources.update({ cloudServiceId: created.cloudServiceId, tags: { listed: "yes" } });
    }
  });

  it("filters with the query language, newest first, and pages with a total count", async () => {
    const filter = [{ k: "cloud_service_id", v: { kind: { case: "listValue" as const, value: { values: ids.map(text) } } }, o: "in" }];
    const all = await history.list({ query: { filter } });
    expect(all.totalCount).toBe(6);
    expect(all.results.map((c) => `${c.action} ${c.cloudServiceId}`)).toEqual([...ids].reverse().flatMap((id) => [`UPDATE ${id}`, `CREATE ${id}`]));
    const updates = await history.list({ query: { filter: [...filter, { k: "action", v: text("UPDATE") }, { k: "diff_count", v: { kind: { case: "numberValue", value: 1 } }, o: "eq" }] } });
    expect(updates.totalCount).toBe(3);
    expect(updates.results.every((c) => diffOf(c)["tags.listed"]?.[1] === "yes")).toBe(true);
    const page1 = await history.list({ query: { filter, page: { start: 0, limit: 4 } } });
    const page2 = await history.list({ query: { filter, page: { start: 4, limit: 4 } } });
    expect(page1.totalCount).toBe(6);
    expect(page1.results).toHaveLength(4);
    expect(page2.results).toHaveLength(2);
    expect(new Set([...page1.results, ...page2.results].map((c) => c.changeId)).size).toBe(6);
  });

  it("per resource, with cloud_service_id", async () => {
    const one = await history.list({ cloudServiceId: ids[1] });
    expect(one.totalCount).toBe(2);
    expect(one.results.every((c) => c.cloudServiceId === ids[1])).toBe(true);
  });

  it("a bad filter is INVALID_ARGUMENT naming it, never INTERNAL", async () => {
    const err = await failure(history.list({ query: { filter: [{ k: "nope", v: text("x") }] } }));
    expect(err).toMatchObject({ grpcCode: Code.InvalidArgument, code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "query.filter[0]" } });
    const op = await failure(history.list({ query: { filter: [{ k: "action", v: text("x"), o: "sideways" }] } }));
    expect(op).toMatchObject({ grpcCode: Code.InvalidArgument, code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "query.filter[0]" } });
  });

  it("another domain sees none of it", async () => {
    const theirs = await platform.client(ChangeHistoryService, otherDomain).list({ cloudServiceId: ids[0] });
    expect(theirs.totalCount).toBe(0);
  });
});

// Collected creates and updates store their changes compact (both snapshots, migration 0004), in
// the write's own statement; every read turns them into the changed keys by the same rules.
describe("collected writes, stored compact", () => {
  const item = (data: Record<string, JsonValue>, tags: Record<string, string> = { env: "prod" }) => ({
    cloudServiceType: "compute.Instance",
    cloudServiceName: "compact-01",
    provider: "nutanix",
    account: "sa-compact",
    data: data as never,
    tags,
    reference: { resourceId: "vm-compact-1" },
    workspaceId: WS,
    collectorId: "collector-compact",
    jobTaskId: "task-compact-1",
    collectorRulesApplied: true,
  });
  let id: string;
  const storedForms = async () =>
    (await sql<{ form: string }[]>`select jsonb_typeof(diff) as form from cloud_service.change_history where cloud_service_id = ${id} order by created_at`).map((r) => r.form);

  it("a collected create reads as every key it set, in List and Get, with its count", async () => {
    const answer = await resources.batchUpsert(
      (async function* () {
        yield { items: [item({ power_state: "ON", cpu_cores: 2, note: "" })] };
      })(),
    );
    expect(answer).toMatchObject({ createdCount: 1, failedCount: 0 });
    id = (await resources.list({ query: { filter: [{ k: "reference.resource_id", v: text("vm-compact-1") }] } })).results[0].cloudServiceId;
    const [created] = await changesOf(id);
    expect(await storedForms()).toEqual(["object"]);
    expect(created).toMatchObject({ action: "CREATE", updatedBy: "COLLECTOR", authorId: "task-compact-1" });
    // Every key it set, sorted; "" (data.note, the empty group and link) counts as not set.
    expect(created.diff.map((d) => d.key)).toEqual([
      "account",
      "cloud_service_type",
      "data.cpu_cores",
      "data.power_state",
      "name",
      "provider",
      "reference.resource_id",
      "state",
      "tags.env",
      "workspace_id",
    ]);
    expect(diffOf(created)["data.power_state"]).toEqual([null, "ON"]);
    expect(created.diffCount).toBe(created.diff.length);
    const got = (await history.get({ changeId: created.changeId })).change!;
    expect(diffOf(got)).toEqual(diffOf(created));
    expect(got.diffCount).toBe(created.diffCount);
  });

  it("a collected update reads as exactly its changed keys; the count and filters see them too", async () => {
    await resources.upsert(item({ power_state: "OFF", cpu_cores: 2, note: "" }, { env: "prod", patched: "yes" }));
    const changes = await changesOf(id);
    expect(changes.map((c) => c.action)).toEqual(["CREATE", "UPDATE"]);
    expect(await storedForms()).toEqual(["object", "object"]);
    expect(diffOf(changes[1])).toEqual({ "data.power_state": ["ON", "OFF"], "tags.patched": [null, "yes"] });
    expect(changes[1].diffCount).toBe(2);
    const byCount = await history.list({ cloudServiceId: id, query: { filter: [{ k: "diff_count", v: { kind: { case: "numberValue", value: 2 } }, o: "eq" }] } });
    expect(byCount.results.map((c) => c.changeId)).toEqual([changes[1].changeId]);
    expect(byCount.totalCountExact).toBe(true);
    // The read form sorts and projects too.
    const sorted = await history.list({ cloudServiceId: id, query: { sort: { key: "diff_count", desc: true }, only: ["change_id", "diff_count"] } });
    expect(sorted.results.map((c) => [c.changeId, c.diffCount, c.action])).toEqual([
      [changes[0].changeId, changes[0].diffCount, ""],
      [changes[1].changeId, 2, ""],
    ]);
  });

  it("an update that only turns a key between \"\" and missing is stored but reads as no change", async () => {
    // data.note goes from "" to absent: the row changed, no key history counts did.
    await resources.upsert(item({ power_state: "OFF", cpu_cores: 2 }, { env: "prod", patched: "yes" }));
    expect(await storedForms()).toEqual(["object", "object", "object"]);
    const listed = await history.list({ cloudServiceId: id });
    expect(listed.totalCount).toBe(2);
    expect(listed.results.map((c) => c.action)).toEqual(["UPDATE", "CREATE"]);
    const [hidden] = await sql<{ change_id: string }[]>`select change_id from cloud_service.change_history where cloud_service_id = ${id} order by created_at desc limit 1`;
    expect(await failure(history.get({ changeId: hidden.change_id }))).toMatchObject({ grpcCode: Code.NotFound });
  });
});

describe("retention", () => {
  it("the sweeper prunes changes older than the retention and keeps younger ones", async () => {
    const created = await resources.create({ cloudServiceType: "compute.Disk", cloudServiceName: "retention", provider: "nutanix", reference: { resourceId: "retention" }, projectId: "project-history" });
    await resources.update({ cloudServiceId: created.cloudServiceId, tags: { age: "young" } });
    await resources.update({ cloudServiceId: created.cloudServiceId, tags: { age: "old" } });
    const changes = await changesOf(created.cloudServiceId);
    expect(changes).toHaveLength(3);
    // Ages the create past the 30-day retention, and one update to just inside it.
    await sql`update cloud_service.change_history set created_at = now() - interval '31 days' where change_id = ${changes[0].changeId}`;
    await sql`update cloud_service.change_history set created_at = now() - interval '29 days' where change_id = ${changes[1].changeId}`;
    await waitFor(async () => (await changesOf(created.cloudServiceId)).length === 2, 30_000, "the old change pruned");
    expect((await changesOf(created.cloudServiceId)).map((c) => c.changeId).sort()).toEqual([changes[1].changeId, changes[2].changeId].sort());
  });
});
