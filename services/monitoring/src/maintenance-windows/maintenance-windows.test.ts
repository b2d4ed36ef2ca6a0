import { describe, expect, it } from "vitest";
import { matchesLabels, occurrence, windowState } from "./maintenance-windows";

const t = (iso: string) => new Date(iso);
const ms = (iso: string) => Date.parse(iso);

describe("maintenance window occurrences", () => {
  const once = { startsAt: t("2026-01-15T01:00:00Z"), endsAt: t("2026-01-15T02:00:00Z"), recurrence: "ONCE" as const, repeatUntil: null };
  const daily = { ...once, recurrence: "DAILY" as const, repeatUntil: t("2026-01-17T00:00:00Z") };

  it("is scheduled, active, then expired once", () => {
    expect(windowState(once, ms("2026-01-15T00:59:59Z"))).toBe("SCHEDULED");
    expect(occurrence(once, ms("2026-01-15T01:30:00Z"))).toEqual({ active: true, until: ms("2026-01-15T02:00:00Z") });
    expect(windowState(once, ms("2026-01-15T02:00:00Z"))).toBe("EXPIRED");
  });

  it("recurs daily until repeat_until", () => {
    expect(occurrence(daily, ms("2026-01-16T01:15:00Z"))).toEqual({ active: true, until: ms("2026-01-16T02:00:00Z") });
    // The next start (Jan 17, 01:00) is past repeat_until: no further occurrence.
    expect(occurrence(daily, ms("2026-01-16T03:00:00Z"))).toStrictEqual({ active: false });
    expect(windowState(daily, ms("2026-01-16T03:00:00Z"))).toBe("EXPIRED");
    expect(windowState({ ...daily, repeatUntil: null }, ms("2026-03-01T01:59:00Z"))).toBe("ACTIVE");
    expect(windowState({ ...daily, repeatUntil: null }, ms("2026-03-01T03:00:00Z"))).toBe("SCHEDULED");
  });

  it("matches labels with EQ, NE and anchored REGEX", () => {
    const labels = { service: "checkout", env: "prod" };
    expect(matchesLabels([{ name: "service", value: "checkout", operator: "EQ" }, { name: "env", value: "dev", operator: "NE" }], labels)).toBe(true);
    expect(matchesLabels([{ name: "service", value: "check", operator: "REGEX" }], labels)).toBe(false);
    expect(matchesLabels([{ name: "service", value: "check.*", operator: "REGEX" }], labels)).toBe(true);
    expect(matchesLabels([{ name: "team", value: "", operator: "EQ" }], labels)).toBe(true);
  });
});
