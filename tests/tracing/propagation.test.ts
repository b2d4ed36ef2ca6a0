// Tracing in one process, without services: nothing is installed when OTEL_EXPORTER_OTLP_ENDPOINT is
// unset; when set, an event published in a span reaches its consumer in the same trace (in-process
// bus, which keeps the traceparent beside the body as JetStream keeps it in a header), and log lines
// in a span carry its ids.
import { Writable } from "node:stream";
import { createEvent, eventTracing, InProcessBus } from "@cloudforet/events";
import { createLogger, installTracing, serverTracing, withTraceparent, currentTraceparent } from "@cloudforet/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SpanKind, startOtlpReceiver, type OtlpReceiver } from "./otlp-receiver";

let receiver: OtlpReceiver;
beforeAll(async () => {
  receiver = await startOtlpReceiver();
});
afterAll(async () => {
  await receiver?.close();
});

describe("tracing in a process", () => {
  it("is off, with nothing installed, without an endpoint", () => {
    expect(installTracing("off", {})).toBeUndefined();
    expect(serverTracing()).toEqual([]);
    expect(eventTracing()).toBeUndefined();
    expect((globalThis as Record<symbol, unknown>)[Symbol.for("cloudforet.resilience.clientTracing")]).toBeUndefined();
    expect(currentTraceparent()).toBeUndefined();
  });

  it("carries an event's trace from publish to its handler, and puts trace ids on log lines", async () => {
    const tracing = installTracing("propagation", { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: "50" })!;
    expect(tracing).toBeDefined();
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({ write: (chunk, _e, done) => (lines.push(JSON.parse(String(chunk))), done()) });
    const logger = createLogger("propagation", "info", sink);
    const bus = new InProcessBus({ logger: createLogger("bus", "silent") });
    try {
      const handled = new Promise<string | undefined>((resolve) => {
        void bus.subscribe({ durable: "t", subjects: "cloudforet.test.thing.done", handler: async () => resolve(currentTraceparent()) });
      });
      const traceId = "0af7651916cd43dd8448eb211c80319c";
      await withTraceparent(`00-${traceId}-b7ad6b7169203331-01`, "work", {}, async () => {
        logger.info("inside");
        await bus.publish(createEvent({ subject: "cloudforet.test.thing.done", data: {} }));
      });
      expect((await handled)?.split("-")[1]).toBe(traceId);
      await new Promise((r) => setTimeout(r, 50)); // the consumer span ends once the handler has returned
      await tracing.shutdown();
      const spans = receiver.spans.filter((s) => s.traceId === traceId);
      const work = spans.find((s) => s.name === "work")!;
      const publish = spans.find((s) => s.kind === SpanKind.PRODUCER)!;
      const consume = spans.find((s) => s.kind === SpanKind.CONSUMER)!;
      expect(work.parentSpanId).toBe("b7ad6b7169203331");
      expect(publish).toMatchObject({ parentSpanId: work.spanId, service: "propagation", attributes: { "messaging.system": "nats" } });
      expect(consume).toMatchObject({ parentSpanId: publish.spanId, name: "process cloudforet.test.thing.done" });
      expect(lines.find((l) => l.msg === "inside")).toMatchObject({ trace_id: traceId, span_id: work.spanId });
    } finally {
      await bus.close();
      await tracing.shutdown();
    }
    expect(eventTracing()).toBeUndefined();
  });
});
