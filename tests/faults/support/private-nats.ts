import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { freePort, isListening, pollUntil } from "./ports";

const NATS_SERVER = process.env.FAULTS_NATS_SERVER ?? "/usr/sbin/nats-server";

/**
 * A nats-server with JetStream of our own, on a free port with its store in a temp dir, so a test
 * can stop and restart it without touching the shared NATS on 4222. Restarting keeps the port and
 * the store, so streams, consumers and the dedupe window survive as they would in production.
 */
export class PrivateNats {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private readonly output: string[] = [];

  private constructor(
    readonly port: number,
    readonly storeDir: string,
  ) {}

  static async start(): Promise<PrivateNats> {
    const storeDir = await mkdtemp(path.join(os.tmpdir(), "faults-nats-"));
    const nats = new PrivateNats(await freePort(), storeDir);
    await nats.start();
    return nats;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the server (again) on the same port and store; resolves when it accepts connections. */
  async start(): Promise<void> {
    if (this.running) throw new Error("nats-server is already running");
    const child = spawn(NATS_SERVER, ["-a", "127.0.0.1", "-p", String(this.port), "-js", "-sd", this.storeDir], { stdio: ["ignore", "pipe", "pipe"] });
    const keep = (chunk: Buffer) => {
      this.output.push(String(chunk));
      if (this.output.length > 100) this.output.shift();
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    this.exited = new Promise((resolve) => child.once("exit", () => resolve()));
    this.child = child;
    await pollUntil(
      async () => {
        if (!this.running) throw new Error(`nats-server exited at start:\n${this.output.join("")}`);
        return isListening(this.port);
      },
      `nats-server on ${this.port}`,
      30_000,
      100,
    );
  }

  /** Stops the server with `signal` (SIGKILL: a crash; SIGTERM: a clean stop) and waits until it is gone. */
  async stop(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    if (!this.running) return;
    this.child!.kill(signal);
    const timer = setTimeout(() => this.child?.kill("SIGKILL"), 10_000);
    await this.exited;
    clearTimeout(timer);
  }

  /** Stops the server and removes its store; never throws. */
  async destroy(): Promise<void> {
    await this.stop("SIGKILL").catch(() => {});
    await rm(this.storeDir, { recursive: true, force: true }).catch(() => {});
  }

  logs(): string {
    return this.output.join("");
  }
}
