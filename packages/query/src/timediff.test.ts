import { describe, expect, it } from "vitest";
import { parseTimediff } from "./timediff";

// Friday 2024-03-01 12:34:56.789 UTC
const now = new Date("2024-03-01T12:34:56.789Z");
const at = (expression: string) => parseTimediff(expression, now)?.toISOString();

describe("parseTimediff", () => {
  it.each([
    ["now", "2024-03-01T12:34:56.789Z"],
    ["now-1h", "2024-03-01T11:34:56.789Z"],
    ["now+30m", "2024-03-01T13:04:56.789Z"],
    ["now-90s", "2024-03-01T12:33:26.789Z"],
    ["now/s", "2024-03-01T12:34:56.000Z"],
    ["now/m", "2024-03-01T12:34:00.000Z"],
    ["now/h", "2024-03-01T12:00:00.000Z"],
    ["now/d", "2024-03-01T00:00:00.000Z"],
    ["now/d-14d", "2024-02-16T00:00:00.000Z"],
    ["now/w", "2024-02-26T00:00:00.000Z"],
    ["now/w-1w", "2024-02-19T00:00:00.000Z"],
    ["now/d-1d+6h", "2024-02-29T06:00:00.000Z"],
    [" now / d - 14d ", "2024-02-16T00:00:00.000Z"],
  ])("%s is %s", (expression, expected) => {
    expect(at(expression)).toBe(expected);
  });

  it("truncates a Monday to itself and a Sunday to the Monday before", () => {
    expect(parseTimediff("now/w", new Date("2024-02-26T08:00:00Z"))?.toISOString()).toBe("2024-02-26T00:00:00.000Z");
    expect(parseTimediff("now/w", new Date("2024-03-03T23:59:59Z"))?.toISOString()).toBe("2024-02-26T00:00:00.000Z");
  });

  it.each(["", "today", "now-", "now-1", "now-1y", "now-1M", "NOW", "now/x", "now/d/d", "now-1.5h", "now-12345678d", "1h", "now-1h-1h-1h-1h-1h-1h", "now-9999999w"])(
    "rejects %j",
    (expression) => {
      expect(parseTimediff(expression, now)).toBeUndefined();
    },
  );
});
