import { describe, expect, it } from "vitest";
import { nextFireTime } from "./next-fire";

const at = (iso: string) => new Date(iso);

describe("nextFireTime", () => {
  it("is null for a missing or disabled schedule", () => {
    expect(nextFireTime(null, at("2026-01-01T00:00:00Z"))).toBeNull();
    expect(nextFireTime({ enabled: false, cron: "0 * * * *", timezone: "" }, at("2026-01-01T00:00:00Z"))).toBeNull();
  });

  it("reads five-field cron on the wall clock of its zone", () => {
    // 03:00 in Seoul (UTC+9) is 18:00 UTC the day before.
    expect(nextFireTime({ enabled: true, cron: "0 3 * * *", timezone: "Asia/Seoul" }, at("2026-01-01T12:00:00Z"))).toEqual(at("2026-01-01T18:00:00Z"));
    expect(nextFireTime({ enabled: true, cron: "*/15 * * * *", timezone: "" }, at("2026-01-01T00:07:00Z"))).toEqual(at("2026-01-01T00:15:00Z"));
  });

  it("keeps an interval's phase: after a late look, the next multiple of the interval after now, once", () => {
    const schedule = { enabled: true, cron: "", timezone: "", intervalSeconds: 10 };
    const anchor = at("2026-01-01T00:00:00Z");
    expect(nextFireTime(schedule, anchor)).toEqual(at("2026-01-01T00:00:10Z"));
    // Fired 35 s late (the replicas were down): the next fire is 00:00:40, not 00:00:20.
    expect(nextFireTime(schedule, at("2026-01-01T00:00:35Z"), anchor)).toEqual(at("2026-01-01T00:00:40Z"));
    expect(nextFireTime(schedule, at("2026-01-01T00:00:40Z"), anchor)).toEqual(at("2026-01-01T00:00:50Z"));
  });
});
