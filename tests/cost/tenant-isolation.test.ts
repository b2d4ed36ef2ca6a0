import { Code, type Client } from "@connectrpc/connect";
import { costModule } from "@cloudforet/cost";
import { decodeError } from "@cloudforet/errors";
import { CostService, CostServiceAnalyzeRequest_Granularity as Granularity } from "@cloudforet/proto/cloudforet/cost/v1/cost_pb";
import { DataSourceService } from "@cloudforet/proto/cloudforet/cost/v1/data_source_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPlatform, type Identity, type TestPlatform } from "../support/platform";

let platform: TestPlatform;
let domainB: Identity;
let costsA: Client<typeof CostService>;
let costsB: Client<typeof CostService>;
let sourcesA: Client<typeof DataSourceService>;
let sourcesB: Client<typeof DataSourceService>;
let costIdA: string;

beforeAll(async () => {
  platform = await startTestPlatform({ modules: [costModule] });
  domainB = await platform.createDomainAdmin("domain-b");
  costsA = platform.client(CostService);
  sourcesA = platform.client(DataSourceService);
  costsB = platform.client(CostService, domainB);
  sourcesB = platform.client(DataSourceService, domainB);
  await sourcesA.create({ dataSourceId: "ds-cost-nutanix-001", name: "A", provider: "nutanix" });
  costIdA = (await costsA.create({ dataSourceId: "ds-cost-nutanix-001", date: "2024-01-15", cost: 12.5, resourceId: "vm-a" })).costId;
  await costsA.batchCreate({ idempotencyKey: "shared-key", costs: [{ date: "2024-01-15", cost: 1, resourceId: "vm-a" }] });
});

afterAll(async () => {
  await platform?.close();
});

const failure = (promise: Promise<unknown>) => promise.then(() => expect.fail("expected an error"), (err) => decodeError(err));

describe("cost tenant isolation", () => {
  it("DataSourceService: another domain neither sees nor deletes A's source, and may reuse its id", async () => {
    expect(await failure(sourcesB.get({ dataSourceId: "ds-cost-nutanix-001" }))).toMatchObject({ code: "ERROR_NOT_FOUND" });
    expect((await sourcesB.list({})).totalCount).toBe(0);
    expect(await failure(sourcesB.delete({ dataSourceId: "ds-cost-nutanix-001" }))).toMatchObject({ code: "ERROR_NOT_FOUND" });
    const own = await sourcesB.create({ dataSourceId: "ds-cost-nutanix-001", name: "B", provider: "nutanix" });
    expect(own.domainId).toBe("domain-b");
    expect((await sourcesA.get({ dataSourceId: "ds-cost-nutanix-001" })).name).toBe("A");
  });

  it("CostService: another domain cannot push to, read, list or analyze A's costs", async () => {
    expect(await failure(costsB.get({ costId: costIdA }))).toMatchObject({ code: "ERROR_NOT_FOUND" });
    expect((await costsB.list({})).totalCount).toBe(0);
    expect((await costsB.analyze({ granularity: Granularity.YEARLY, start: "2000-01-01", end: "2100-01-01" })).results).toEqual([]);
    await sourcesB.delete({ dataSourceId: "ds-cost-nutanix-001" });
    expect(await failure(costsB.create({ dataSourceId: "ds-cost-nutanix-001", date: "2024-01-15", cost: 1, resourceId: "vm" }))).toMatchObject({ code: "ERROR_NOT_FOUND" });
    expect(await failure(costsB.batchCreate({ dataSourceId: "ds-cost-nutanix-001", costs: [{ date: "2024-01-15", cost: 1, resourceId: "vm" }] }))).toMatchObject({ code: "ERROR_NOT_FOUND" });
    const own = await costsB.batchCreate({ idempotencyKey: "shared-key", costs: [{ date: "2024-01-15", cost: 2, resourceId: "vm-b" }] });
    expect(own).toMatchObject({ createdCount: 1, totalCost: 2 }); // idempotency keys are per domain
    expect((await costsB.list({})).results.map((c) => c.resourceId)).toEqual(["vm-b"]);
    expect((await costsA.get({ costId: costIdA })).cost).toBe(12.5);
    expect((await costsA.list({})).totalCount).toBe(2);
  });

  it("a workspace member sees only its workspace's and the domain-wide costs", async () => {
    await sourcesA.create({ dataSourceId: "ds-ws-1", name: "ws-1", provider: "manual", workspaceId: "ws-1" });
    await sourcesA.create({ dataSourceId: "ds-ws-2", name: "ws-2", provider: "manual", workspaceId: "ws-2" });
    await costsA.create({ dataSourceId: "ds-ws-1", date: "2024-01-15", cost: 3, resourceId: "vm-ws-1" });
    const hidden = await costsA.create({ dataSourceId: "ds-ws-2", date: "2024-01-15", cost: 4, resourceId: "vm-ws-2" });
    const member = await platform.createWorkspaceUser(platform.admin, "member-1", "WORKSPACE_MEMBER", "ws-1");
    const asMember = platform.client(CostService, member);
    expect((await asMember.list({})).results.map((c) => c.resourceId).sort()).toEqual(["vm-a", "vm-a", "vm-ws-1"]);
    expect(await failure(asMember.get({ costId: hidden.costId }))).toMatchObject({ code: "ERROR_NOT_FOUND" });
    const analysis = await asMember.analyze({ granularity: Granularity.DAILY, start: "2024-01-15", end: "2024-01-15", groupBy: ["data_source_id"] });
    expect(analysis.results.map((r) => r.groups.data_source_id).sort()).toEqual(["", "ds-cost-nutanix-001", "ds-ws-1"]);
    expect(await failure(asMember.create({ dataSourceId: "ds-ws-1", date: "2024-01-15", cost: 1, resourceId: "vm" }))).toMatchObject({ code: "ERROR_PERMISSION_DENIED" });
    expect(await failure(platform.client(DataSourceService, member).delete({ dataSourceId: "ds-cost-nutanix-001" }))).toMatchObject({ code: "ERROR_PERMISSION_DENIED" });
  });

  it("every RPC refuses a call without a token", async () => {
    const anonymousCosts = platform.anonymousClient(CostService);
    const anonymousSources = platform.anonymousClient(DataSourceService);
    const calls = [
      () => anonymousCosts.create({}),
      () => anonymousCosts.batchCreate({}),
      () => anonymousCosts.get({}),
      () => anonymousCosts.list({}),
      () => anonymousCosts.analyze({}),
      () => anonymousSources.create({}),
      () => anonymousSources.get({}),
      () => anonymousSources.list({}),
      () => anonymousSources.delete({}),
    ];
    for (const call of calls) expect(await failure(call())).toMatchObject({ code: "ERROR_AUTHENTICATE_FAILURE", grpcCode: Code.Unauthenticated });
  });
});
