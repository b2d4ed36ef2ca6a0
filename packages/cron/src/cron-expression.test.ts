import { describe, expect, it } from "vitest";
import { CronSyntaxError, instantsOfWallTime, nextFireAfter, parseCron } from "./cron-expression";

const next = (expr: string, tz: string, after: string) => nextFireAfter(parseCron(expr), tz, new Date(after))?.toISOString();

/** The first `n` fire times after `after`. */
function fires(expr: string, tz: string, after: string, n: number): string[] {
  const cron = parseCron(expr);
  const out: string[] = [];
  let at = new Date(after);
  for (let i = 0; i < n; i++) {
    const found = nextFireAfter(cron, tz, at);
    if (!found) break;
    out.push(found.toISOString());
    at = found;
  }
  return out;
}

describe("parseCron", () => {
  it("parses values, ranges, lists, steps and names", () => {
    const cron = parseCron("*/15 5/20 1-3,7 ? JAN-MAR,dec MON-FRI 2024-2026/2");
    expect(cron.seconds).toEqual([0, 15, 30, 45]);
    expect(cron.minutes).toEqual([5, 25, 45]);
    expect(cron.hours).toEqual([1, 2, 3, 7]);
    expect(cron.dayAny).toBe(true);
    expect([...cron.months].sort((a, b) => a - b)).toEqual([1, 2, 3, 12]);
    expect([...cron.weekdays].sort()).toEqual([1, 2, 3, 4, 5]);
    expect([...cron.years]).toEqual([2024, 2026]);
  });

  it("reads the seed's 6-field form as minute hour day month day_of_week year, and 5 fields as classic cron", () => {
    const six = parseCron("0 9 * * MON-FRI *");
    expect([six.seconds, six.minutes, six.hours]).toEqual([[0], [0], [9]]);
    expect([...six.weekdays].sort()).toEqual([1, 2, 3, 4, 5]);
    expect(six.source).toBe("0 9 * * MON-FRI *");
    expect(parseCron("0 9 * * MON-FRI 2030").years).toEqual(new Set([2030]));
    const five = parseCron("*/5 * * * *");
    expect([five.seconds, five.minutes.length, five.years.size]).toEqual([[0], 12, 230]);
  });

  it("treats 0 and 7 as Sunday", () => {
    expect([...parseCron("0 0 0 ? * 7 *").weekdays]).toEqual([0]);
    expect([...parseCron("0 0 0 ? * SAT-7 *").weekdays].sort()).toEqual([0, 6]);
  });

  it.each([
    ["0 9 * *", /expected 7 fields/],
    ["0 0 9 * * MON-FRI * *", /expected 7 fields/],
    ["", /expected 7 fields/],
    ["60 * * * * * *", /second: 60 is outside 0-59/],
    ["0 ? * * * * *", /only allowed in day and day_of_week/],
    ["0 0 5-1 * * * *", /runs backwards/],
    ["0 0 0 * FOO * *", /month: "FOO" is not a number or a name/],
    ["*/0 * * * * * *", /step "0"/],
    ["0 0 0 32 * * *", /day: 32 is outside 1-31/],
    ["0 0 0 * * * 1969", /year: 1969 is outside/],
    ["0 0 0 * * 1,,2 *", /empty list item/],
    ["0 0 0 * * 1-2-3 *", /is not a range/],
    ["0 0 0 * * 1/2/3 *", /more than one/],
  ])("rejects %j", (expr, message) => {
    expect(() => parseCron(expr)).toThrow(CronSyntaxError);
    expect(() => parseCron(expr)).toThrow(message);
  });
});

describe("nextFireAfter in UTC", () => {
  it("steps through seconds, minutes and lists", () => {
    expect(fires("*/15 * * * * * *", "UTC", "2024-01-01T00:00:07Z", 3)).toEqual(["2024-01-01T00:00:15.000Z", "2024-01-01T00:00:30.000Z", "2024-01-01T00:00:45.000Z"]);
    expect(fires("0 5/20 * * * * *", "UTC", "2024-01-01T00:00:00Z", 4)).toEqual([
      "2024-01-01T00:05:00.000Z",
      "2024-01-01T00:25:00.000Z",
      "2024-01-01T00:45:00.000Z",
      "2024-01-01T01:05:00.000Z",
    ]);
  });

  it("is strictly after the given instant", () => {
    expect(next("0 0 9 * * * *", "UTC", "2024-01-15T09:00:00Z")).toBe("2024-01-16T09:00:00.000Z");
    expect(next("0 0 9 * * * *", "UTC", "2024-01-15T08:59:59.999Z")).toBe("2024-01-15T09:00:00.000Z");
  });

  it("honours the year field and returns undefined once the years are past", () => {
    expect(next("0 0 0 1 1 * 2030", "UTC", "2024-06-01T00:00:00Z")).toBe("2030-01-01T00:00:00.000Z");
    expect(next("0 0 12 29 FEB ? 2025-2029", "UTC", "2024-06-01T00:00:00Z")).toBe("2028-02-29T12:00:00.000Z");
    expect(next("0 0 0 1 1 * 2020", "UTC", "2024-06-01T00:00:00Z")).toBeUndefined();
    expect(next("0 0 0 30 FEB ? *", "UTC", "2024-06-01T00:00:00Z")).toBeUndefined();
  });

  it("fires on a day matching either day or day_of_week when both are restricted", () => {
    // Friday the 13th rule of classic cron: every 13th and every Friday.
    expect(fires("0 0 0 13 * FRI *", "UTC", "2024-09-01T00:00:00Z", 4)).toEqual([
      "2024-09-06T00:00:00.000Z",
      "2024-09-13T00:00:00.000Z",
      "2024-09-20T00:00:00.000Z",
      "2024-09-27T00:00:00.000Z",
    ]);
    expect(fires("0 0 0 13 * ? *", "UTC", "2024-09-01T00:00:00Z", 2)).toEqual(["2024-09-13T00:00:00.000Z", "2024-10-13T00:00:00.000Z"]);
  });
});

describe("nextFireAfter in America/New_York", () => {
  const NY = "America/New_York";

  it("the seed's example: 0 9 * * MON-FRI * in New York after Monday 9:00 is Tuesday 14:00Z", () => {
    expect(next("0 9 * * MON-FRI *", NY, "2024-01-15T14:00:00Z")).toBe("2024-01-16T14:00:00.000Z");
  });

  it("MON-FRI at 9:00 local skips the weekend", () => {
    expect(next("0 0 9 * * MON-FRI *", NY, "2024-01-15T14:00:00Z")).toBe("2024-01-16T14:00:00.000Z");
    expect(fires("0 0 9 * * MON-FRI *", NY, "2024-01-19T13:00:00Z", 3)).toEqual(["2024-01-19T14:00:00.000Z", "2024-01-22T14:00:00.000Z", "2024-01-23T14:00:00.000Z"]);
  });

  it("spring forward (2024-03-10): 9:00 moves from 14:00Z to 13:00Z", () => {
    expect(fires("0 0 9 * * * *", NY, "2024-03-09T00:00:00Z", 3)).toEqual(["2024-03-09T14:00:00.000Z", "2024-03-10T13:00:00.000Z", "2024-03-11T13:00:00.000Z"]);
  });

  it("spring forward: 2:30, which does not exist that day, is skipped", () => {
    expect(instantsOfWallTime(Date.UTC(2024, 2, 10, 2, 30), NY)).toEqual([]);
    expect(fires("0 30 2 * * * *", NY, "2024-03-09T00:00:00Z", 2)).toEqual(["2024-03-09T07:30:00.000Z", "2024-03-11T06:30:00.000Z"]);
  });

  it("spring forward: hourly and every-minute schedules continue at 3:00 EDT", () => {
    expect(fires("0 0 * * * * *", NY, "2024-03-10T05:30:00Z", 3)).toEqual(["2024-03-10T06:00:00.000Z", "2024-03-10T07:00:00.000Z", "2024-03-10T08:00:00.000Z"]);
    expect(next("0 * * * * * *", NY, "2024-03-10T06:59:00Z")).toBe("2024-03-10T07:00:00.000Z");
  });

  it("fall back (2024-11-03): 1:30, which happens twice, fires once at its first occurrence", () => {
    expect(instantsOfWallTime(Date.UTC(2024, 10, 3, 1, 30), NY)).toEqual([Date.parse("2024-11-03T05:30:00Z"), Date.parse("2024-11-03T06:30:00Z")]);
    expect(fires("0 30 1 * * * *", NY, "2024-11-02T00:00:00Z", 3)).toEqual(["2024-11-02T05:30:00.000Z", "2024-11-03T05:30:00.000Z", "2024-11-04T06:30:00.000Z"]);
    // After the first 1:30, even from inside the repeated hour, the next fire is the next day.
    expect(next("0 30 1 * * * *", NY, "2024-11-03T06:10:00Z")).toBe("2024-11-04T06:30:00.000Z");
  });

  it("fall back: 9:00 moves from 13:00Z to 14:00Z", () => {
    expect(fires("0 0 9 * * * *", NY, "2024-11-02T00:00:00Z", 3)).toEqual(["2024-11-02T13:00:00.000Z", "2024-11-03T14:00:00.000Z", "2024-11-04T14:00:00.000Z"]);
  });

  it("fall back: an hourly schedule follows elapsed time through the repeated hour", () => {
    expect(fires("0 0 * * * * *", NY, "2024-11-03T03:30:00Z", 4)).toEqual(["2024-11-03T04:00:00.000Z", "2024-11-03T05:00:00.000Z", "2024-11-03T06:00:00.000Z", "2024-11-03T07:00:00.000Z"]);
    expect(next("* * * * * * *", NY, "2024-11-03T05:59:59Z")).toBe("2024-11-03T06:00:00.000Z");
  });

  it("computes an every-second schedule quickly", () => {
    const started = performance.now();
    const out = fires("* * * * * * *", NY, "2024-06-01T12:00:00Z", 200);
    expect(out).toHaveLength(200);
    expect(out[199]).toBe("2024-06-01T12:03:20.000Z");
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe("nextFireAfter in other zones", () => {
  it("Europe/London and Asia/Kolkata (half-hour offset)", () => {
    expect(next("0 0 10 * * * *", "Europe/London", "2024-07-01T00:00:00Z")).toBe("2024-07-01T09:00:00.000Z");
    expect(next("0 0 10 * * * *", "Europe/London", "2024-12-01T00:00:00Z")).toBe("2024-12-01T10:00:00.000Z");
    expect(next("0 0 9 * * * *", "Asia/Kolkata", "2024-01-01T00:00:00Z")).toBe("2024-01-01T03:30:00.000Z");
  });
});
