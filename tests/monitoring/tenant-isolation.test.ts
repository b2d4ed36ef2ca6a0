import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, type Client } from "@connectrpc/connect";
import { decodeError } from "@cloudforet/errors";
import { monitoringModule } from "@cloudforet/monitoring";
import { MetricService, MetricServiceGetDataRequest_Stat as Stat } from "@cloudforet/proto/cloudforet/monitoring/v1/metric_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPlatform, type TestPlatform } from "../support/platform";

let platform: TestPlatform;
let metricsA: Client<typeof MetricService>;
let metricsB: Client<typeof MetricService>;
const now = Date.now() - 60_000;

beforeAll(async () => {
  platform = await startTestPlatform({ modules: [monitoringModule] });
  metricsA = platform.client(MetricService);
  metricsB = platform.client(MetricService, await platform.createDomainAdmin("domain-b"));
});

afterAll(async () => {
  await platform?.close();
});

const failure = (promise: Promise<unknown>) => promise.then(() => expect.fail("expected an error"), (err) => decodeError(err));
const byResource = (id: string) => ({ filter: [{ k: "resource_id", v: { kind: { case: "stringValue" as const, value: id } } }] });

describe("monitoring tenant isolation", () => {
  it("samples written by one domain through Push, PushBatch and Ingest are invisible to another's Query and GetData", async () => {
    const metricId = (await metricsA.push({ resourceId: "vm-shared", metricName: "cpu", value: 10, timestamp: timestampFromMs(now) })).metricId;
    await metricsA.pushBatch({ resourceId: "vm-shared", timestamp: timestampFromMs(now), metrics: [{ metricName: "mem", value: 20 }] });
    await metricsA.ingest((async function* () {
      yield { samples: [{ resourceId: "vm-shared", metricName: "cpu", value: 30, timestamp: timestampFromMs(now - 1000) }] };
    })());
    await metricsB.push({ resourceId: "vm-shared", metricName: "cpu", value: 99, timestamp: timestampFromMs(now) });

    expect((await metricsA.query({ query: byResource("vm-shared") })).totalCount).toBe(3);
    const seenByB = await metricsB.query({ query: byResource("vm-shared") });
    expect(seenByB.results.map((m) => m.value)).toEqual([99]);
    expect((await metricsB.query({ query: { filter: [{ k: "metric_id", v: { kind: { case: "stringValue", value: metricId } } }] } })).totalCount).toBe(0);

    const request = { resourceIds: ["vm-shared"], metricName: "cpu", start: timestampFromMs(now - 3_600_000), end: timestampFromMs(now + 1000), period: 3600, stat: Stat.SUM };
    const sumA = (await metricsA.getData(request)).series[0].points.reduce((total, p) => total + p.value, 0);
    const sumB = (await metricsB.getData(request)).series[0].points.reduce((total, p) => total + p.value, 0);
    expect([sumA, sumB]).toEqual([40, 99]);
  });

  it("every RPC refuses a call without a token", async () => {
    const anonymous = platform.anonymousClient(MetricService);
    const calls = [
      () => anonymous.push({}),
      () => anonymous.pushBatch({}),
      () => anonymous.ingest((async function* () {})()),
      () => anonymous.query({}),
      () => anonymous.getData({}),
    ];
    for (const call of calls) expect(await failure(call())).toMatchObject({ code: "ERROR_AUTHENTICATE_FAILURE", grpcCode: Code.Unauthenticated });
  });
});
