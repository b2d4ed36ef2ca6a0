import { describe, expect, it } from "vitest";
import { delayEnd } from "./timing";

// Holiday-aware business-day delays (the engine's delay.holidays): listed dates count like weekends.
describe("delayEnd with holidays", () => {
  const thursday = new Date("2024-12-19T10:00:00Z");

  it("skips listed dates while counting business days", () => {
    expect(delayEnd(thursday, { duration: 86_400_000, business_days_only: true }, "UTC").toISOString()).toBe("2024-12-20T10:00:00.000Z");
    expect(delayEnd(thursday, { duration: 86_400_000, business_days_only: true, holidays: ["2024-12-20"] }, "UTC").toISOString()).toBe("2024-12-23T10:00:00.000Z");
    expect(delayEnd(thursday, { duration: "2d", business_days_only: true, holidays: ["2024-12-20", "2024-12-23"] }, "UTC").toISOString()).toBe("2024-12-25T10:00:00.000Z");
  });

  it("moves an end that falls on a holiday to the next business day, in the instance's time zone", () => {
    const end = delayEnd(new Date("2024-12-24T03:00:00Z"), { duration: 3_600_000, business_days_only: true, holidays: ["2024-12-23"] }, "America/New_York");
    // 04:00Z on the 24th is still the 23rd in New York (a holiday): the next business day is the 24th there.
    expect(end.toISOString()).toBe("2024-12-25T04:00:00.000Z");
  });

  it("ignores holidays without business_days_only, as the engine does", () => {
    expect(delayEnd(thursday, { duration: 86_400_000, holidays: ["2024-12-20"] }, "UTC").toISOString()).toBe("2024-12-20T10:00:00.000Z");
  });
});
