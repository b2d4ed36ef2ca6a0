// Samples belong to a workspace: pushing needs write access to it (WORKSPACE_OWNER, or DOMAIN_ADMIN
// anywhere), and Query and GetData show only the workspaces the caller may read.
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { decodeError } from "@cloudforet/errors";
import { monitoringModule } from "@cloudforet/monitoring";
import { UserService } from "@cloudforet/proto/cloudforet/identity/v1/user_pb";
import { MetricService, MetricServiceGetDataRequest_Stat as Stat } from "@cloudforet/proto/cloudforet/monitoring/v1/metric_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_PASSWORD, startTestPlatform, type Identity, type TestPlatform } from "../support/platform";

let platform: TestPlatform;
let ownerA: Identity;
let memberA: Identity;
let ownerB: Identity;
let noRole: Identity;
const now = Date.now() - 60_000;

beforeAll(async () => {
  platform = await startTestPlatform({ modules: [monitoringModule] });
  ownerA = await platform.createWorkspaceUser(platform.admin, "owner-a", "WORKSPACE_OWNER", "ws-a");
  memberA = await platform.createWorkspaceUser(platform.admin, "member-a", "WORKSPACE_MEMBER", "ws-a");
  ownerB = await platform.createWorkspaceUser(platform.admin, "owner-b", "WORKSPACE_OWNER", "ws-b");
  await platform.client(UserService).create({ userId: "no-role", password: ADMIN_PASSWORD, name: "no-role" });
  noRole = await platform.login("domain-default", "no-role", ADMIN_PASSWORD);
}, 120_000);

afterAll(async () => {
  await platform?.close();
});

const metricsAs = (who: Identity) => platform.client(MetricService, who);
const failure = (promise: Promise<unknown>) => promise.then(() => expect.fail("expected an error"), (err) => decodeError(err));
const byResource = (id: string) => ({ filter: [{ k: "resource_id", v: { kind: { case: "stringValue" as const, value: id } } }] });
const at = timestampFromMs(now);

describe("writing samples needs write access to their workspace", () => {
  it("a user with no role gets PERMISSION_DENIED from Push, PushBatch and Ingest, with or without workspace_id", async () => {
    const metrics = metricsAs(noRole);
    const denied = [
      () => metrics.push({ resourceId: "vm-x", metricName: "cpu", value: 1, timestamp: at }),
      () => metrics.push({ resourceId: "vm-x", metricName: "cpu", value: 1, timestamp: at, workspaceId: "ws-a" }),
      () => metrics.pushBatch({ resourceId: "vm-x", timestamp: at, metrics: [{ metricName: "cpu", value: 1 }] }),
      () => metrics.ingest((async function* () {
        yield { samples: [{ resourceId: "vm-x", metricName: "cpu", value: 1, timestamp: at }] };
      })()),
    ];
    for (const call of denied) expect(await failure(call())).toMatchObject({ code: "ERROR_PERMISSION_DENIED", grpcCode: Code.PermissionDenied });
    expect((await metricsAs(platform.admin).query({ query: byResource("vm-x") })).totalCount).toBe(0);
  });

  it("a WORKSPACE_MEMBER (read only) may not push, and an owner may not push into another workspace", async () => {
    expect(await failure(metricsAs(memberA).push({ resourceId: "vm-x", metricName: "cpu", value: 1, timestamp: at }))).toMatchObject({ code: "ERROR_PERMISSION_DENIED" });
    expect(await failure(metricsAs(ownerA).push({ resourceId: "vm-x", metricName: "cpu", value: 1, timestamp: at, workspaceId: "ws-b" }))).toMatchObject({
      code: "ERROR_PERMISSION_DENIED",
      metadata: { workspace_id: "ws-b" },
    });
  });
});

describe("reading samples sees only readable workspaces", () => {
  beforeAll(async () => {
    await metricsAs(ownerA).push({ resourceId: "vm-shared", metricName: "cpu", value: 10, timestamp: at }); // ws-a: the owner's only workspace
    await metricsAs(ownerA).pushBatch({ resourceId: "vm-shared", timestamp: at, workspaceId: "ws-a", metrics: [{ metricName: "mem", value: 20 }] });
    await metricsAs(ownerB).ingest((async function* () {
      yield { samples: [{ resourceId: "vm-shared", metricName: "cpu", value: 99, timestamp: at }] };
    })());
    await metricsAs(platform.admin).push({ resourceId: "vm-shared", metricName: "cpu", value: 1000, timestamp: at, workspaceId: "ws-b" });
  });

  const series = { resourceIds: ["vm-shared"], metricName: "cpu", start: timestampFromMs(now - 3_600_000), end: timestampFromMs(now + 1000), period: 3600, stat: Stat.SUM };
  const sumOf = async (who: Identity) => (await metricsAs(who).getData(series)).series[0].points.reduce((total, p) => total + p.value, 0);
  const valuesOf = async (who: Identity) => (await metricsAs(who).query({ query: byResource("vm-shared") })).results.map((m) => m.value).sort((a, b) => a - b);

  it("a member of workspace A reads A's samples through Query and GetData", async () => {
    expect(await valuesOf(memberA)).toEqual([10, 20]);
    expect(await sumOf(memberA)).toBe(10);
  });

  it("a member of workspace A cannot read workspace B's samples through Query or GetData", async () => {
    const seen = await valuesOf(memberA);
    expect(seen).not.toContain(99);
    expect(seen).not.toContain(1000);
    expect(await sumOf(ownerA)).toBe(10);
    expect(await valuesOf(ownerB)).toEqual([99, 1000]);
    expect(await sumOf(ownerB)).toBe(1099);
  });

  it("DOMAIN_ADMIN reads every workspace; a user with no role reads nothing (and no error)", async () => {
    expect(await valuesOf(platform.admin)).toEqual([10, 20, 99, 1000]);
    expect(await sumOf(platform.admin)).toBe(1109);
    expect(await valuesOf(noRole)).toEqual([]);
    expect(await sumOf(noRole)).toBe(0);
  });
});
