import pino from "pino";
import { describe, expect, it } from "vitest";
import { startBackgroundRounds } from "./background-rounds";

const logger = pino({ level: "silent" });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("startBackgroundRounds", () => {
  it("runs at once, then once per interval; a kick runs a round now; stop ends it", async () => {
    let rounds = 0;
    const loop = startBackgroundRounds(async () => void rounds++, { intervalMs: 60_000, logger, failure: "x" });
    await sleep(50);
    expect(rounds).toBe(1);
    loop.kick();
    await sleep(50);
    expect(rounds).toBe(2);
    await loop.stop();
    loop.kick();
    await sleep(50);
    expect(rounds).toBe(2);
  });

  it("comes back when the round says its next work is due; after a failed round, at the interval", async () => {
    const at: number[] = [];
    const loop = startBackgroundRounds(
      async () => {
        at.push(Date.now());
        if (at.length === 3) throw new Error("a bad round");
        return 10;
      },
      { intervalMs: 150, logger, failure: "x" },
    );
    await sleep(600);
    await loop.stop();
    expect(at.length).toBeGreaterThanOrEqual(4);
    // Due in 10 ms: well inside the 150 ms interval. The failed third round leaves the interval.
    expect(at[1] - at[0]).toBeLessThan(120);
    expect(at[3] - at[2]).toBeGreaterThanOrEqual(140);
  });

  it("a kick during a round runs one more right after it", async () => {
    let rounds = 0;
    let release!: () => void;
    const loop = startBackgroundRounds(
      async () => {
        rounds++;
        if (rounds === 1) await new Promise<void>((resolve) => (release = resolve));
      },
      { intervalMs: 60_000, logger, failure: "x" },
    );
    await sleep(20);
    loop.kick();
    release();
    await sleep(50);
    expect(rounds).toBe(2);
    await loop.stop();
  });
});
