import { afterEach, describe, expect, it, vi } from "vitest";
import pino from "pino";
import type { DayPartitions } from "./day-partitions";
import { DAY_MS } from "./day-partitions";
import { RetentionSweep } from "./retention-sweep";

describe("RetentionSweep timing", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("sweeps at start, right after each UTC midnight, and otherwise once an interval", async () => {
    vi.useFakeTimers();
    // 23:30 UTC: midnight comes before the next hourly sweep would.
    const start = Date.UTC(2026, 0, 10, 23, 30);
    vi.setSystemTime(start);
    const sweptAt: number[] = [];
    const partitions = { dropBefore: async () => [] } as unknown as DayPartitions;
    const sweep = new RetentionSweep(partitions, () => new Date(), 3_600_000, pino({ level: "silent" }), async () => {
      sweptAt.push(Date.now());
    });
    sweep.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(sweptAt).toEqual([start]);

    // 30 minutes to midnight: swept a second after it, not at 00:30.
    const midnight = Math.ceil(start / DAY_MS) * DAY_MS;
    await vi.advanceTimersByTimeAsync(midnight - start + 1_000);
    expect(sweptAt).toHaveLength(2);
    expect(sweptAt[1]).toBe(midnight + 1_000);

    // Then hourly: nothing in between.
    await vi.advanceTimersByTimeAsync(3_599_000);
    expect(sweptAt).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(sweptAt).toHaveLength(3);

    await sweep.stop();
    await vi.advanceTimersByTimeAsync(10 * 3_600_000);
    expect(sweptAt).toHaveLength(3);
  });
});
