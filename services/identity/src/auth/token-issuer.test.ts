import { describe, expect, it } from "vitest";
import { waitUntil } from "./token-issuer";

describe("waitUntil", () => {
  it("reads the clock again after a sleep that ended early, and sleeps on until the time has come", async () => {
    const at = Date.now() + 120;
    const asked: number[] = [];
    // A timer that fires before its due time, as one can on a busy event loop: half the wait.
    const early = (ms: number) => (asked.push(ms), new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.floor(ms / 2)))));
    await waitUntil(at, early);
    expect(Date.now()).toBeGreaterThanOrEqual(at);
    expect(asked.length).toBeGreaterThan(1);
  });

  it("does not sleep for a time already past", async () => {
    const asked: number[] = [];
    await waitUntil(Date.now() - 5, async (ms) => void asked.push(ms));
    expect(asked).toEqual([]);
  });
});
