import { describe, expect, it } from "vitest";
import { stepSeries } from "./series-transitions";

const at = (s: number) => new Date(Date.UTC(2026, 0, 15, 10, 0, s));

describe("stepSeries", () => {
  it("goes OK → PENDING → FIRING after `for`, keeping pending-since", () => {
    const pending = stepSeries(undefined, true, 5000, at(0));
    expect(pending).toMatchObject({ state: "PENDING", pendingSince: at(0), fire: false });
    expect(stepSeries(pending, true, 5000, at(4))).toMatchObject({ state: "PENDING", pendingSince: at(0), fire: false });
    expect(stepSeries(pending, true, 5000, at(5))).toMatchObject({ state: "FIRING", pendingSince: at(0), firingSince: at(5), fire: true });
  });

  it("fires at once with for 0, and only once while firing", () => {
    const firing = stepSeries(undefined, true, 0, at(0));
    expect(firing).toMatchObject({ state: "FIRING", fire: true });
    expect(stepSeries(firing, true, 0, at(1))).toMatchObject({ state: "FIRING", fire: false, resolve: false });
  });

  it("resolves a firing series once, and drops a pending one back to OK", () => {
    const firing = { state: "FIRING" as const, pendingSince: at(0), firingSince: at(1) };
    const resolved = stepSeries(firing, false, 0, at(2));
    expect(resolved).toMatchObject({ state: "RESOLVED", resolve: true });
    expect(stepSeries(resolved, false, 0, at(3))).toMatchObject({ state: "OK", resolve: false });
    expect(stepSeries({ state: "PENDING", pendingSince: at(0), firingSince: null }, false, 5000, at(1))).toMatchObject({ state: "OK", pendingSince: null, fire: false });
  });
});
