import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { pollUntil } from "./ports";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

/** The service's `<PREFIX>_ADDR` variable: "cloud-service" → CLOUD_SERVICE_ADDR. */
export const addrVariable = (name: string) => `${name.toUpperCase().replace(/-/g, "_")}_ADDR`;

/** Lines of output kept per process, for the error message when it misbehaves. */
const OUTPUT_LINES = 200;

/**
 * One service run as its own process exactly as tests/e2e and `npm start` run it
 * (`node --import tsx services/<name>/src/main.ts`), which the fault tests kill and start again on
 * the same port and database.
 */
export class ServiceProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private readonly output: string[] = [];
  /** How many times the process was started. */
  starts = 0;

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly env: Record<string, string>,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Spawns the process (it is not ready yet: see `waitReady`). */
  start(): void {
    if (this.running) throw new Error(`${this.name} is already running`);
    this.starts += 1;
    const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "services", this.name, "src/main.ts")], {
      cwd: root,
      env: { ...process.env, [addrVariable(this.name)]: `127.0.0.1:${this.port}`, LOG_LEVEL: "warn", ...this.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const keep = (chunk: Buffer) => {
      this.output.push(`[${this.name}#${this.starts}] ${String(chunk)}`);
      if (this.output.length > OUTPUT_LINES) this.output.splice(0, this.output.length - OUTPUT_LINES);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    this.exited = new Promise((resolve) => child.once("exit", () => resolve()));
    this.child = child;
  }

  /** Polls GET /health/ready until 200 (not a sleep: a loaded machine may take a while). */
  async waitReady(timeoutMs = 90_000): Promise<void> {
    await pollUntil(
      async () => {
        if (!this.running) throw new Error(`${this.name} exited while starting:\n${this.logs()}`);
        return (await this.readiness()) === 200;
      },
      `${this.name} to be ready`,
      timeoutMs,
      250,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${this.logs()}`);
    });
  }

  /** The status of GET /health/ready, or 0 when nothing answers. */
  readiness(): Promise<number> {
    return fetch(`${this.url}/health/ready`, { signal: AbortSignal.timeout(5_000) }).then(
      (res) => res.status,
      () => 0,
    );
  }

  /** SIGKILL: no graceful shutdown, no outbox flush, in-flight calls cut. Resolves once it is gone. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child!.kill("SIGKILL");
    await this.exited;
  }

  /** SIGTERM and wait (SIGKILL after `graceMs`). */
  async stop(graceMs = 15_000): Promise<void> {
    if (!this.running) return;
    this.child!.kill("SIGTERM");
    const timer = setTimeout(() => this.child?.kill("SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** The last lines the process printed (for failure messages). */
  logs(): string {
    return this.output.join("");
  }
}

/** Starts several services at once and waits for all of them to be ready. */
export async function startAll(services: ServiceProcess[], timeoutMs = 120_000): Promise<void> {
  for (const service of services) service.start();
  await Promise.all(services.map((s) => s.waitReady(timeoutMs)));
}

/** Stops every process that still runs; never throws (used in afterAll, also after a failure). */
export async function stopAll(services: ServiceProcess[]): Promise<void> {
  await Promise.all(services.map((s) => s.kill().catch(() => {})));
}
