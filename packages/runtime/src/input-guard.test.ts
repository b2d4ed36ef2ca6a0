import { create, fromJson, type DescMessage, type JsonValue } from "@bufbuild/protobuf";
import { CostServiceBatchCreateRequestSchema } from "@cloudforet/proto/cloudforet/cost/v1/cost_pb";
import { CollectorServiceCreateRequestSchema } from "@cloudforet/proto/cloudforet/inventory/v1/collector_pb";
import { MetricServicePushRequestSchema } from "@cloudforet/proto/cloudforet/monitoring/v1/metric_pb";
import { RateLimitServiceSetResponseSchema } from "@cloudforet/proto/cloudforet/orchestration/v1/rate_limit_pb";
import { SequenceServiceCreateRequestSchema } from "@cloudforet/proto/cloudforet/orchestration/v1/sequence_pb";
import { describe, expect, it } from "vitest";
import { findInputProblem, textProblem } from "./input-guard";

const problemOf = (schema: DescMessage, json: JsonValue, options?: { skipRows?: boolean }) => findInputProblem(fromJson(schema, json), schema, options);

/** `{a: {a: … "x"}}`, `depth` objects deep, built without recursion. */
function nested(depth: number): JsonValue {
  let value: JsonValue = "x";
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

describe("findInputProblem", () => {
  it("accepts clean requests, paired surrogates (emoji) included", () => {
    expect(problemOf(CollectorServiceCreateRequestSchema, { name: "c 😀", plugin_info: { options: { region: "eu", list: [1, "a", { b: null }] } }, tags: { env: "prod" } })).toBeUndefined();
    expect(problemOf(SequenceServiceCreateRequestSchema, { name: "s", blocks: [{ type: "step", params: { url: "http://x" } }] })).toBeUndefined();
  });

  it("names the nested field holding NUL or a lone surrogate", () => {
    expect(problemOf(CollectorServiceCreateRequestSchema, { name: "c", plugin_info: { options: { region: "eu\u0000" } } })).toEqual({ parameter: "plugin_info.options.region", problem: "holds a NUL character" });
    expect(problemOf(SequenceServiceCreateRequestSchema, { name: "s", blocks: [{ type: "step" }, { params: { url: "\ud800x" } }] })).toEqual({ parameter: "blocks[1].params.url", problem: "holds broken UTF-16 (a lone surrogate)" });
    expect(problemOf(SequenceServiceCreateRequestSchema, { name: "s", blocks: [{ list: ["ok", "\udc00"] }] })?.parameter).toBe("blocks[0].list[1]");
    expect(problemOf(CollectorServiceCreateRequestSchema, { name: "c", tags: { k: "v\u0000" } })?.parameter).toBe("tags.k");
    expect(problemOf(CollectorServiceCreateRequestSchema, { name: "c", tags: { "k\u0000": "v" } })).toMatchObject({ parameter: "tags", problem: "has a key that holds a NUL character" });
    expect(problemOf(CollectorServiceCreateRequestSchema, { name: "c", plugin_info: { options: { "\ud800": 1 } } })?.parameter).toBe("plugin_info.options");
    expect(problemOf(CollectorServiceCreateRequestSchema, { name: "\u0000" })?.parameter).toBe("name");
  });

  it("refuses JSON nested deeper than 64 levels, also 10,000 deep, without overflowing the stack", () => {
    expect(problemOf(CollectorServiceCreateRequestSchema, { plugin_info: { options: nested(60) as Record<string, JsonValue> } })).toBeUndefined();
    const deep = create(CollectorServiceCreateRequestSchema, { pluginInfo: {} });
    // Built by hand: fromJson itself stops at 100 levels, a message built in code or decoded elsewhere need not.
    let options: JsonValue = "x";
    for (let i = 0; i < 10_000; i++) options = i % 2 === 0 ? { a: options } : [options];
    deep.pluginInfo!.options = options as Record<string, JsonValue>;
    expect(findInputProblem(deep, CollectorServiceCreateRequestSchema)?.problem).toBe("is nested deeper than 64 levels");
    expect(problemOf(CollectorServiceCreateRequestSchema, { plugin_info: { options: nested(70) as Record<string, JsonValue> } })?.parameter).toMatch(/^plugin_info\.options(\.a)+$/);
  });

  it("refuses times outside 0001..9999 and 64-bit integers beyond 2^53", () => {
    const push = create(MetricServicePushRequestSchema, { resourceId: "vm", metricName: "cpu", timestamp: { seconds: 8_640_000_000_000n } });
    expect(findInputProblem(push, MetricServicePushRequestSchema)).toMatchObject({ parameter: "timestamp" });
    push.timestamp = { $typeName: "google.protobuf.Timestamp", seconds: -62_135_596_801n, nanos: 0 };
    expect(findInputProblem(push, MetricServicePushRequestSchema)).toMatchObject({ parameter: "timestamp" });
    push.timestamp = { $typeName: "google.protobuf.Timestamp", seconds: 253_402_300_799n, nanos: 0 };
    expect(findInputProblem(push, MetricServicePushRequestSchema)).toBeUndefined();
    // No request has an int64 today; a response message stands in for the next one that will.
    expect(findInputProblem(create(RateLimitServiceSetResponseSchema, { windowMs: 9_223_372_036_854_775_807n }), RateLimitServiceSetResponseSchema)).toMatchObject({ parameter: "window_ms" });
    expect(findInputProblem(create(RateLimitServiceSetResponseSchema, { windowMs: 60_000n }), RateLimitServiceSetResponseSchema)).toBeUndefined();
  });

  it("leaves the rows of a per-item batch to the handler but checks the rest of it", () => {
    const batch = { data_source_id: "ds", costs: [{ date: "2024-01-15", cost: 1, resource_id: "vm\u0000" }] };
    expect(problemOf(CostServiceBatchCreateRequestSchema, batch)?.parameter).toBe("costs[0].resource_id");
    expect(problemOf(CostServiceBatchCreateRequestSchema, batch, { skipRows: true })).toBeUndefined();
    expect(problemOf(CostServiceBatchCreateRequestSchema, { ...batch, data_source_id: "ds\u0000" }, { skipRows: true })?.parameter).toBe("data_source_id");
  });
});

describe("textProblem", () => {
  it("tells NUL from a lone surrogate and accepts pairs", () => {
    expect(textProblem("a\u0000")).toBe("holds a NUL character");
    expect(textProblem("\udc00a")).toBe("holds broken UTF-16 (a lone surrogate)");
    expect(textProblem("😀")).toBeUndefined();
  });
});
