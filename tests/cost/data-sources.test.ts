import { Code, type Client } from "@connectrpc/connect";
import { costModule } from "@cloudforet/cost";
import { decodeError } from "@cloudforet/errors";
import { CostService } from "@cloudforet/proto/cloudforet/cost/v1/cost_pb";
import { DataSourceService } from "@cloudforet/proto/cloudforet/cost/v1/data_source_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPlatform, type TestPlatform } from "../support/platform";

let platform: TestPlatform;
let dataSources: Client<typeof DataSourceService>;
let costs: Client<typeof CostService>;

beforeAll(async () => {
  platform = await startTestPlatform({ modules: [costModule] });
  dataSources = platform.client(DataSourceService);
  costs = platform.client(CostService);
});

afterAll(async () => {
  await platform?.close();
});

const failure = (promise: Promise<unknown>) => promise.then(() => expect.fail("expected an error"), (err) => decodeError(err));

describe("DataSourceService", () => {
  it("creates a source under the client's id, or a generated ds-<uuid>", async () => {
    const chosen = await dataSources.create({ dataSourceId: "ds-cost-nutanix-001", name: "Nutanix", provider: "nutanix", tags: { team: "finops" } });
    expect(chosen).toMatchObject({ dataSourceId: "ds-cost-nutanix-001", name: "Nutanix", provider: "nutanix", tags: { team: "finops" }, domainId: "domain-default", workspaceId: "" });
    expect(chosen.createdAt).toBeDefined();
    const generated = await dataSources.create({ name: "Manual", provider: "manual" });
    expect(generated.dataSourceId).toMatch(/^ds-[0-9a-f-]{36}$/);
  });

  it("refuses a taken id with ERROR_CONFLICT and bad input with INVALID_ARGUMENT", async () => {
    expect(await failure(dataSources.create({ dataSourceId: "ds-cost-nutanix-001", name: "again", provider: "nutanix" }))).toMatchObject({
      code: "ERROR_CONFLICT",
      grpcCode: Code.AlreadyExists,
      metadata: { data_source_id: "ds-cost-nutanix-001" },
    });
    expect(await failure(dataSources.create({ dataSourceId: "DS Bad!", name: "x", provider: "x" }))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "data_source_id", value: "DS Bad!" } });
    expect(await failure(dataSources.create({ dataSourceId: "x".repeat(65), name: "x", provider: "x" }))).toMatchObject({ metadata: { parameter: "data_source_id" } });
    expect(await failure(dataSources.create({ provider: "x" }))).toMatchObject({ message: "Missing required field", metadata: { parameter: "name" } });
    expect(await failure(dataSources.create({ name: "x" }))).toMatchObject({ message: "Missing required field", metadata: { parameter: "provider" } });
  });

  it("gets and lists through the query language", async () => {
    expect((await dataSources.get({ dataSourceId: "ds-cost-nutanix-001" })).name).toBe("Nutanix");
    expect(await failure(dataSources.get({ dataSourceId: "ds-missing" }))).toMatchObject({ code: "ERROR_NOT_FOUND", metadata: { data_source_id: "ds-missing" } });
    const all = await dataSources.list({});
    expect(all.totalCount).toBe(2);
    const nutanix = await dataSources.list({ query: { filter: [{ k: "provider", v: { kind: { case: "stringValue", value: "nutanix" } } }] } });
    expect(nutanix.results.map((d) => d.dataSourceId)).toEqual(["ds-cost-nutanix-001"]);
    const tagged = await dataSources.list({ query: { filter: [{ k: "tags.team", v: { kind: { case: "stringValue", value: "finops" } } }], only: ["data_source_id"] } });
    expect(tagged.results).toHaveLength(1);
    expect(tagged.results[0].name).toBe("");
  });

  it("deletes a source with its cost rows", async () => {
    const source = await dataSources.create({ dataSourceId: "ds-to-delete", name: "temp", provider: "manual" });
    await costs.batchCreate({ dataSourceId: source.dataSourceId, costs: [{ date: "2024-01-01", cost: 3, resourceId: "vm-1" }, { date: "2024-01-02", cost: 4, resourceId: "vm-1" }] });
    const before = await costs.list({ query: { filter: [{ k: "data_source_id", v: { kind: { case: "stringValue", value: "ds-to-delete" } } }], countOnly: true } });
    expect(before.totalCount).toBe(2);
    await dataSources.delete({ dataSourceId: "ds-to-delete" });
    expect(await failure(dataSources.get({ dataSourceId: "ds-to-delete" }))).toMatchObject({ code: "ERROR_NOT_FOUND" });
    const after = await costs.list({ query: { filter: [{ k: "data_source_id", v: { kind: { case: "stringValue", value: "ds-to-delete" } } }], countOnly: true } });
    expect(after.totalCount).toBe(0);
    expect(await failure(dataSources.delete({ dataSourceId: "ds-to-delete" }))).toMatchObject({ code: "ERROR_NOT_FOUND", metadata: { data_source_id: "ds-to-delete" } });
  });

  it("lets every member of the domain read sources and only its admins write them", async () => {
    const owner = await platform.createWorkspaceUser(platform.admin, "cost-owner", "WORKSPACE_OWNER", "ws-finance");
    const member = await platform.createWorkspaceUser(platform.admin, "cost-member", "WORKSPACE_MEMBER", "ws-finance");
    await dataSources.create({ dataSourceId: "ds-finance", name: "Finance", provider: "manual", workspaceId: "ws-finance" });
    await dataSources.create({ dataSourceId: "ds-other-ws", name: "Other", provider: "manual", workspaceId: "ws-other" });
    for (const user of [owner, member]) {
      const as = platform.client(DataSourceService, user);
      expect((await as.get({ dataSourceId: "ds-other-ws" })).workspaceId).toBe("ws-other");
      expect((await as.list({})).results.map((d) => d.dataSourceId)).toContain("ds-other-ws");
      expect(await failure(as.create({ name: "x", provider: "x", workspaceId: "ws-finance" }))).toMatchObject({ code: "ERROR_PERMISSION_DENIED" });
      expect(await failure(as.delete({ dataSourceId: "ds-finance" }))).toMatchObject({ code: "ERROR_PERMISSION_DENIED" });
    }
  });

  it("lets a workspace owner push costs to its workspace's sources only, into that workspace", async () => {
    const asOwner = platform.client(CostService, await platform.createWorkspaceUser(platform.admin, "cost-owner-2", "WORKSPACE_OWNER", "ws-finance"));
    const row = await asOwner.create({ dataSourceId: "ds-finance", date: "2024-01-01", cost: 1, resourceId: "vm" });
    expect((await costs.get({ costId: row.costId })).workspaceId).toBe("ws-finance");
    expect(await failure(asOwner.create({ dataSourceId: "ds-other-ws", date: "2024-01-01", cost: 1, resourceId: "vm" }))).toMatchObject({ code: "ERROR_PERMISSION_DENIED", metadata: { workspace_id: "ws-other" } });
    const unsourced = await asOwner.create({ date: "2024-01-01", cost: 2, resourceId: "vm" });
    expect((await costs.get({ costId: unsourced.costId })).workspaceId).toBe("ws-finance");
    const member = platform.client(CostService, await platform.createWorkspaceUser(platform.admin, "cost-member-2", "WORKSPACE_MEMBER", "ws-finance"));
    expect(await failure(member.create({ dataSourceId: "ds-finance", date: "2024-01-01", cost: 1, resourceId: "vm" }))).toMatchObject({ code: "ERROR_PERMISSION_DENIED" });
    expect((await member.get({ costId: row.costId })).cost).toBe(1);
  });
});
