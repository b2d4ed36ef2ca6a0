import { describe, expect, it } from "vitest";
import { parseDuration } from "./durations";

describe("parseDuration", () => {
  it.each([
    ["30s", 30_000],
    ["1m", 60_000],
    ["500ms", 500],
    ["2h", 7_200_000],
    ["1d", 86_400_000],
    ["3600s", 3_600_000],
    ["1h30m", 5_400_000],
    ["1.5s", 1_500],
    ["0s", 0],
  ])("%s is %d ms", (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(["", "30", "-1s", "10x", "s", "1 s", "1m x", "1w", "ms"])("rejects %j", (text) => expect(parseDuration(text)).toBeUndefined());
});
