import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { bucketLabel, summarize, toBars } from "./series";

describe("metric series helpers", () => {
  const ts = timestampFromDate(new Date("2026-12-07T13:05:00Z"));
  it("labels buckets by time of day within a day, by date and hour beyond", () => {
    expect(bucketLabel(ts, 3_600)).toBe("13:05");
    expect(bucketLabel(ts, 86_400)).toBe("13:05");
    expect(bucketLabel(ts, 7 * 86_400)).toBe("2026-12-07 13:05");
    expect(toBars([{ timestamp: ts, value: 3 }], "cpu", 3_600)).toEqual([{ x: "13:05", series: "cpu", value: 3 }]);
  });
  it("summarizes a series, or nothing for no points", () => {
    expect(summarize([{ value: 2 }, { value: 9 }, { value: 4 }])).toEqual({ latest: 4, min: 2, max: 9 });
    expect(summarize([])).toBeUndefined();
  });
});
