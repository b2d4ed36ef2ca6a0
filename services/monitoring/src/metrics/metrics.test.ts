import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { bucketCount, checkSample, instantOf } from "./metrics";

const now = Date.parse("2026-01-31T12:00:00Z");
const window = { now, oldest: now - 30 * 86_400_000, retentionDays: 30 };
const sample = { resourceId: "vm-1", metricName: "cpu.utilization", value: 45.2, unit: "percent", dimensions: {} };

describe("metric rules", () => {
  it("takes the receive time when a sample has none", () => {
    expect(checkSample(sample, window)).toEqual({ ok: true, sample: { ...sample, at: now } });
  });

  it("accepts the window's edges and refuses beyond them", () => {
    expect(instantOf(timestampFromMs(window.oldest), window)).toBe(window.oldest);
    expect(instantOf(timestampFromMs(now + 5 * 60_000), window)).toBe(now + 5 * 60_000);
    expect(instantOf(timestampFromMs(window.oldest - 1), window)).toMatchObject({ parameter: "timestamp" });
    expect(instantOf(timestampFromMs(now + 5 * 60_000 + 1), window)).toMatchObject({ message: "timestamp is more than 5 minutes in the future" });
    expect(instantOf({ seconds: 0n, nanos: 1_000_000_000 } as never, window)).toMatchObject({ message: "timestamp is not a valid instant" });
  });

  it("names the field at fault", () => {
    const problem = (overrides: Partial<typeof sample>) => {
      const checked = checkSample({ ...sample, ...overrides }, window);
      return checked.ok ? undefined : checked.problem.parameter;
    };
    expect(problem({ value: Number.NaN })).toBe("value");
    expect(problem({ value: Number.NEGATIVE_INFINITY })).toBe("value");
    expect(problem({ metricName: "" })).toBe("metric_name");
    expect(problem({ metricName: "cpu usage" })).toBe("metric_name");
    expect(problem({ metricName: "_ok:name/with-dash.1" })).toBeUndefined();
    expect(problem({ resourceId: "" })).toBe("resource_id");
    expect(problem({ resourceId: "vm\u0000" })).toBe("resource_id");
    expect(problem({ unit: "\uD800" })).toBe("unit");
    expect(problem({ dimensions: { cluster: "a\u0000" } })).toBe("dimensions.cluster");
  });

  it("counts the epoch-aligned buckets a range touches", () => {
    expect(bucketCount(0, 60_000, 60)).toBe(1);
    expect(bucketCount(0, 60_001, 60)).toBe(2);
    expect(bucketCount(30_000, 90_000, 60)).toBe(2);
    expect(bucketCount(0, 600_000_000, 60)).toBe(10_000);
  });
});
