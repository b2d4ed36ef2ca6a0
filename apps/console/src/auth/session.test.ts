import { describe, expect, it } from "vitest";
import { refreshDelay } from "./session";

describe("refreshDelay", () => {
  it("renews a minute before expiry, or halfway for short tokens", () => {
    expect(refreshDelay(3_600_000, 0)).toBe(3_540_000);
    expect(refreshDelay(60_000, 0)).toBe(30_000);
    expect(refreshDelay(100_000, 0)).toBe(50_000);
    expect(refreshDelay(-5, 0)).toBe(0);
  });
});
