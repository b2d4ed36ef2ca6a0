import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { Client } from "@connectrpc/connect";
import { decodeError } from "@cloudforet/errors";
import { monitoringModule } from "@cloudforet/monitoring";
import { MetricService, type MetricServiceIngestRequestSchema } from "@cloudforet/proto/cloudforet/monitoring/v1/metric_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPlatform, type TestPlatform } from "../support/platform";

/** Blind retries of Push, PushBatch and Ingest with an idempotency key never store a sample twice. */
let platform: TestPlatform;
let metrics: Client<typeof MetricService>;

beforeAll(async () => {
  platform = await startTestPlatform({ modules: [monitoringModule] });
  metrics = platform.client(MetricService);
}, 60_000);

afterAll(async () => {
  await platform?.close();
});

type IngestMessage = MessageInitShape<typeof MetricServiceIngestRequestSchema>;
async function* stream(messages: IngestMessage[]): AsyncIterable<IngestMessage> {
  for (const message of messages) yield message;
}
const failure = (promise: Promise<unknown>) => promise.then(() => expect.fail("expected an error"), (err) => decodeError(err));
const count = async (metricName: string) =>
  (await metrics.query({ query: { filter: [{ k: "metric_name", v: { kind: { case: "stringValue", value: metricName } } }], countOnly: true } })).totalCount;
const at = timestampFromMs(Math.floor(Date.now() / 1000) * 1000 - 60_000);

describe("idempotency keys on metric writes", () => {
  it("Push: a retry answers the first metric_id and stores nothing", async () => {
    const request = { resourceId: "vm-1", metricName: "idem.push", value: 1.5, timestamp: at, idempotencyKey: "push-key-1" };
    const first = await metrics.push(request);
    const second = await metrics.push(request);
    expect(second.metricId).toBe(first.metricId);
    expect(second.createdAt).toEqual(first.createdAt);
    expect(await count("idem.push")).toBe(1);
    // Without a key, two pushes are two samples.
    await metrics.push({ ...request, idempotencyKey: "" });
    await metrics.push({ ...request, idempotencyKey: "" });
    expect(await count("idem.push")).toBe(3);
  });

  it("Push: concurrent retries store one sample", async () => {
    const request = { resourceId: "vm-2", metricName: "idem.concurrent", value: 2, timestamp: at, idempotencyKey: "push-key-2" };
    const answers = await Promise.all(Array.from({ length: 8 }, () => metrics.push(request)));
    expect(new Set(answers.map((a) => a.metricId)).size).toBe(1);
    expect(await count("idem.concurrent")).toBe(1);
  });

  it("PushBatch: a retry replays the first answer", async () => {
    const request = {
      resourceId: "vm-3",
      timestamp: at,
      idempotencyKey: "batch-key-1",
      metrics: [
        { metricName: "idem.batch", value: 1 },
        { metricName: "idem.batch", value: Number.NaN },
        { metricName: "idem.batch", value: 3 },
      ],
    };
    const first = await metrics.pushBatch(request);
    expect(first).toMatchObject({ createdCount: 2, failedCount: 1, resourceId: "vm-3" });
    const second = await metrics.pushBatch(request);
    expect(second).toMatchObject({ createdCount: 2, failedCount: 1, resourceId: "vm-3" });
    expect(second.failures.map((f) => [f.index, f.parameter])).toEqual([[1, "value"]]);
    expect(await count("idem.batch")).toBe(2);
  });

  it("Ingest: a retried stream stores only the messages not stored before", async () => {
    const message = (key: string, n: number, from: number): IngestMessage => ({
      idempotencyKey: key,
      samples: Array.from({ length: n }, (_, i) => ({ resourceId: `vm-${from + i}`, metricName: "idem.ingest", value: i, timestamp: at })),
    });
    const first = await metrics.ingest(stream([message("ingest-a", 100, 0), message("ingest-b", 50, 100)]));
    expect(first).toMatchObject({ createdCount: 150, failedCount: 0, duplicateCount: 0 });
    // The client did not see that answer and retries the whole stream, with one more message.
    const retry = await metrics.ingest(stream([message("ingest-a", 100, 0), message("ingest-b", 50, 100), message("ingest-c", 10, 150)]));
    expect(retry).toMatchObject({ createdCount: 10, failedCount: 0, duplicateCount: 150 });
    expect(await count("idem.ingest")).toBe(160);
  });

  it("refuses an idempotency key over 255 characters naming the field", async () => {
    const err = await failure(metrics.push({ resourceId: "vm-1", metricName: "idem.bad", value: 1, idempotencyKey: "k".repeat(256) }));
    expect(err).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "idempotency_key" } });
    const streamErr = await failure(metrics.ingest(stream([{ idempotencyKey: "k".repeat(256), samples: [{ resourceId: "vm-1", metricName: "idem.bad", value: 1 }] }])));
    expect(streamErr).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "idempotency_key" } });
    expect(await count("idem.bad")).toBe(0);
  });
});
