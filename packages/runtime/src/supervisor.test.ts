import { spawn } from "node:child_process";
import { EventEmitter } from "node:events";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createLogger } from "./logger";
import { Supervisor, type SupervisedProcess } from "./supervisor";

const logger = createLogger("supervisor-test", "silent");

/** A child process that does what the test tells it. */
class FakeProcess extends EventEmitter implements SupervisedProcess {
  static nextPid = 1000;
  readonly pid = FakeProcess.nextPid++;
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  readonly signals: NodeJS.Signals[] = [];
  constructor(private readonly obeysSigterm = true) {
    super();
  }
  kill(signal: NodeJS.Signals = "SIGTERM"): boolean {
    this.signals.push(signal);
    if (signal === "SIGKILL" || this.obeysSigterm) setImmediate(() => this.exit(null, signal));
    return true;
  }
  exit(code: number | null, signal: NodeJS.Signals | null = null): void {
    this.exitCode = code;
    this.signalCode = signal;
    this.emit("exit", code, signal);
  }
}

function fakeChildren(names: string[], obeysSigterm = true) {
  const spawned: Record<string, FakeProcess[]> = Object.fromEntries(names.map((n) => [n, []]));
  const children = names.map((name) => ({
    name,
    spawn: () => {
      const proc = new FakeProcess(obeysSigterm);
      spawned[name].push(proc);
      return proc;
    },
  }));
  return { children, spawned };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("Supervisor", () => {
  it("restarts a crashed child with exponential backoff, leaving its siblings alone", async () => {
    vi.useFakeTimers();
    const { children, spawned } = fakeChildren(["identity", "inventory"]);
    const supervisor = new Supervisor(children, { logger, initialBackoffMs: 500, maxBackoffMs: 2000, resetAfterMs: 60_000 });
    supervisor.start();
    expect(spawned.identity).toHaveLength(1);

    const delays: number[] = [];
    for (let crash = 1; crash <= 4; crash++) {
      spawned.inventory.at(-1)!.exit(1);
      const before = spawned.inventory.length;
      let waited = 0;
      while (spawned.inventory.length === before) {
        await vi.advanceTimersByTimeAsync(50);
        waited += 50;
      }
      delays.push(waited);
    }
    expect(delays).toEqual([500, 1000, 2000, 2000]); // doubling, capped at maxBackoffMs
    expect(spawned.identity).toHaveLength(1); // the sibling was never touched
    expect(spawned.identity[0].signals).toEqual([]);

    // A child that stayed up longer than resetAfterMs starts again from the first delay.
    await vi.advanceTimersByTimeAsync(61_000);
    spawned.inventory.at(-1)!.exit(null, "SIGKILL");
    const count = spawned.inventory.length;
    await vi.advanceTimersByTimeAsync(499);
    expect(spawned.inventory.length).toBe(count);
    await vi.advanceTimersByTimeAsync(1);
    expect(spawned.inventory.length).toBe(count + 1);
    vi.useRealTimers();
    await supervisor.stop();
  });

  it("stops every child with SIGTERM, SIGKILLs one that lingers, and restarts nothing after", async () => {
    const { children, spawned } = fakeChildren(["cost", "monitoring"], false);
    const supervisor = new Supervisor(children, { logger, initialBackoffMs: 10, stopTimeoutMs: 100 });
    supervisor.start();
    const started = Date.now();
    await supervisor.stop();
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    for (const name of ["cost", "monitoring"]) {
      expect(spawned[name]).toHaveLength(1);
      expect(spawned[name][0].signals).toEqual(["SIGTERM", "SIGKILL"]);
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(spawned.cost).toHaveLength(1);
  });

  it("cancels a pending restart on stop", async () => {
    const { children, spawned } = fakeChildren(["notification"]);
    const supervisor = new Supervisor(children, { logger, initialBackoffMs: 100 });
    supervisor.start();
    spawned.notification[0].exit(1);
    await supervisor.stop();
    await new Promise((r) => setTimeout(r, 200));
    expect(spawned.notification).toHaveLength(1);
  });

  it("restarts a real service process killed with SIGKILL; its sibling keeps running; stop() ends both", async () => {
    const idle = ["-e", "process.on('SIGTERM', () => process.exit(0)); setInterval(() => {}, 1000)"];
    const supervisor = new Supervisor(
      ["orchestration", "identity"].map((name) => ({ name, spawn: () => spawn(process.execPath, idle, { stdio: "ignore" }) })),
      { logger, initialBackoffMs: 100 },
    );
    supervisor.start();
    const victim = supervisor.process("orchestration")!;
    const sibling = supervisor.process("identity")!;
    await new Promise((r) => setTimeout(r, 200));
    victim.kill("SIGKILL");
    const deadline = Date.now() + 5000;
    while (!(supervisor.process("orchestration")?.pid && supervisor.process("orchestration")!.pid !== victim.pid)) {
      if (Date.now() > deadline) throw new Error("the killed service was not restarted");
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(supervisor.process("identity")).toBe(sibling);
    expect(sibling.exitCode).toBeNull();
    const restarted = supervisor.process("orchestration")!;
    await supervisor.stop();
    expect(restarted.exitCode ?? restarted.signalCode).not.toBeNull();
    expect(sibling.exitCode ?? sibling.signalCode).not.toBeNull();
  });
});
