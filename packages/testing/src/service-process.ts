// A service run as its own process, as production runs it (`node --import tsx
// services/<name>/src/main.ts`): spawned, awaited on its readiness URL, stopped with SIGTERM (SIGKILL
// after a grace). The bench, the fault, load, identity, orchestration and e2e tests all start
// services this way. Paths and environment are parameters: this package imports no service and not
// @cloudforet/runtime (whose tests import this package).
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { freePort } from "./free-port";

/** `cloud-service` → `CLOUD_SERVICE_ADDR`, the variable naming a service's listen address. */
export const serviceAddrVariable = (name: string) => `${name.toUpperCase().replace(/-/g, "_")}_ADDR`;

/** The command that runs a service's entry point: `node --import tsx <root>/services/<name>/src/main.ts` (plain `node` for a .mjs/.js bundle). */
export function serviceCommand(root: string, name: string, entry = path.join("services", name, "src", "main.ts")): { command: string; args: string[] } {
  // A compiled bundle (`pnpm build`: dist/<service>.mjs) runs on plain node, as production runs it.
  if (/\.m?js$/.test(entry)) return { command: process.execPath, args: ["--enable-source-maps", path.resolve(root, entry)] };
  return { command: process.execPath, args: ["--import", "tsx", path.resolve(root, entry)] };
}

export interface ServiceProcessOptions {
  /** The repository root: the child's working directory, against which `entry` resolves. */
  root: string;
  /** The service (`cloud-service`): names its entry point, its `<NAME>_ADDR` variable and its messages. */
  name: string;
  /** The port `<NAME>_ADDR` is set to (127.0.0.1); the same across restarts. */
  port: number;
  /** Environment on top of the inherited one and `<NAME>_ADDR` (it wins over both). */
  env?: Record<string, string>;
  /** Which of this process's variables the child inherits: all (default), none, or those `keep` accepts. */
  inheritEnv?: boolean | ((variable: string) => boolean);
  /** The entry point, relative to `root` (default `services/<name>/src/main.ts`). */
  entry?: string;
  /** Polled until it answers 200 (default `http://127.0.0.1:<port>/health/ready`). */
  readyUrl?: string;
  /** How long `waitReady` waits by default (60 s). */
  readyTimeoutMs?: number;
  /** Between readiness polls (200 ms). */
  pollIntervalMs?: number;
  /** "capture" (default): stdout and stderr are kept for `output()` and error messages; "inherit": printed as they come. */
  stdio?: "capture" | "inherit";
  /** Chunks of output kept, the latest (200; `Infinity` keeps everything). */
  keepOutput?: number;
  /** Prefix every kept chunk with `[name#start]` (for several processes' output read together). */
  labelOutput?: boolean;
  /** Called when the child exits without `stop()` or `kill()` having been asked for: it crashed or quit. */
  onUnexpectedExit?: (message: string) => void;
}

/** Lines of output an error message carries. */
const ERROR_OUTPUT_LINES = 60;

/**
 * One service process. `start()` spawns it (not ready yet: `waitReady()`); after it exited it can be
 * started again, on the same port with the same environment, as the fault tests do.
 */
export class ServiceProcess {
  readonly name: string;
  readonly port: number;
  readonly readyUrl: string;
  /** How many times the process was started. */
  starts = 0;
  private current: ChildProcess | undefined;
  private exit: Promise<number | null> = Promise.resolve(null);
  private readonly chunks: string[] = [];
  private exitExpected = false;

  constructor(private readonly options: ServiceProcessOptions) {
    this.name = options.name;
    this.port = options.port;
    this.readyUrl = options.readyUrl ?? `${this.url}/health/ready`;
  }

  /** Its base URL (h2c and HTTP/1.1 on one port). */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The child of the latest start. */
  get child(): ChildProcess {
    if (!this.current) throw new Error(`${this.name} was never started`);
    return this.current;
  }

  /** Resolves with the exit code of the latest start (null when a signal ended it). */
  get exited(): Promise<number | null> {
    return this.exit;
  }

  get running(): boolean {
    return this.current !== undefined && this.current.exitCode === null && this.current.signalCode === null;
  }

  /** Spawns the process; it is not ready yet (see `waitReady`). */
  start(): this {
    if (this.running) throw new Error(`${this.name} is already running`);
    const { root, name, port, env = {}, inheritEnv = true, entry, stdio = "capture" } = this.options;
    this.starts += 1;
    this.exitExpected = false;
    const { command, args } = serviceCommand(root, name, entry);
    const child = spawn(command, args, {
      cwd: root,
      env: { ...inheritedEnv(inheritEnv), [serviceAddrVariable(name)]: `127.0.0.1:${port}`, ...env },
      stdio: ["ignore", stdio === "inherit" ? "inherit" : "pipe", stdio === "inherit" ? "inherit" : "pipe"],
    });
    const start = this.starts;
    const keep = (chunk: Buffer) => this.keep(this.options.labelOutput ? `[${name}#${start}] ${String(chunk)}` : String(chunk));
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    this.exit = new Promise((resolve) =>
      child.once("exit", (code, signal) => {
        if (!this.exitExpected) this.options.onUnexpectedExit?.(`${name} exited (${code ?? signal}):\n${this.outputTail()}`);
        resolve(code);
      }),
    );
    this.current = child;
    return this;
  }

  /** Polls the readiness URL until it answers 200; rejects with the child's last output if it exits or the deadline passes. */
  async waitReady(timeoutMs = this.options.readyTimeoutMs ?? 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.running) throw new Error(`${this.name} exited with ${this.current?.exitCode ?? this.current?.signalCode} before it was ready${this.outputTail("\n")}`);
      if ((await this.readiness()) === 200) return;
      if (Date.now() > deadline) throw new Error(`${this.name} was not ready at ${this.readyUrl} within ${timeoutMs} ms${this.outputTail("\n")}`);
      await new Promise((resolve) => setTimeout(resolve, this.options.pollIntervalMs ?? 200));
    }
  }

  /** The status of GET on the readiness URL, or 0 when nothing answers. */
  readiness(): Promise<number> {
    return fetch(this.readyUrl, { signal: AbortSignal.timeout(5_000) }).then(
      (res) => res.status,
      () => 0,
    );
  }

  /** SIGTERM, SIGKILL if it is still running after `graceMs`; resolves with the exit code. */
  async stop(graceMs = 15_000): Promise<number | null> {
    if (!this.running) return this.exit;
    this.exitExpected = true;
    this.current!.kill("SIGTERM");
    const timer = setTimeout(() => this.current?.kill("SIGKILL"), graceMs);
    try {
      return await this.exit;
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGKILL: no graceful shutdown, in-flight calls cut. Resolves once it is gone. */
  async kill(): Promise<number | null> {
    if (!this.running) return this.exit;
    this.exitExpected = true;
    this.current!.kill("SIGKILL");
    return this.exit;
  }

  /** The output kept so far (stdout and stderr interleaved as they arrived). */
  output(): string {
    return this.chunks.join("");
  }

  private keep(chunk: string): void {
    this.chunks.push(chunk);
    const limit = this.options.keepOutput ?? 200;
    if (this.chunks.length > limit) this.chunks.splice(0, this.chunks.length - limit);
  }

  /** The last lines of output, for error messages. */
  private outputTail(separator = ""): string {
    const lines = this.output().trimEnd().split("\n");
    if (lines.length === 1 && lines[0] === "") return "";
    return separator + lines.slice(-ERROR_OUTPUT_LINES).join("\n");
  }
}

function inheritedEnv(inherit: boolean | ((variable: string) => boolean)): Record<string, string> {
  if (inherit === false) return {};
  return Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined && (inherit === true || inherit(entry[0]))));
}

/** Spawns a service and waits until it is ready; if it is not, kills it and rethrows. */
export async function startServiceProcess(options: ServiceProcessOptions): Promise<ServiceProcess> {
  const service = new ServiceProcess(options).start();
  try {
    await service.waitReady();
  } catch (err) {
    await service.kill();
    throw err;
  }
  return service;
}

export interface PlatformProcessesOptions<P extends ServiceProcess = ServiceProcess>
  extends Omit<ServiceProcessOptions, "name" | "port" | "env" | "readyUrl" | "onUnexpectedExit"> {
  /** The services to run. */
  services: readonly string[];
  /** Started and ready before the others, in this order (identity: it signs the tokens the others verify). */
  startFirst?: readonly string[];
  /** Each service's port (a free one for those not named). */
  ports?: Readonly<Record<string, number>>;
  /** Environment of every service. */
  env?: Record<string, string>;
  /** Extra environment per service. */
  envFor?: Readonly<Record<string, Record<string, string>>>;
  /** Makes each process (a subclass of ServiceProcess, for a caller that adds to it). */
  create?: (options: ServiceProcessOptions) => P;
  /** The entry point of each service, relative to `root` (e.g. its compiled bundle `dist/<name>.mjs`); default its src/main.ts. */
  entryFor?: (name: string) => string;
}

/** Several services as separate processes, wired to each other by the caller's environment. */
export interface PlatformProcesses<P extends ServiceProcess = ServiceProcess> {
  /** The process of service `name`. */
  service(name: string): P;
  all(): P[];
  /** Base URL of each service. */
  urls: Record<string, string>;
  /** What each process that exited without being stopped printed last. */
  crashed(): string[];
  /** SIGTERM to all at once (SIGKILL after `graceMs`); resolves with their exit codes, in start order. */
  stop(graceMs?: number): Promise<(number | null)[]>;
  /** SIGKILL to every process still running; never throws. */
  kill(): Promise<void>;
}

/**
 * Starts `services` (those in `startFirst` first, one after another, then the rest at once) and waits
 * until each is ready. If one fails, every process is killed and the error thrown.
 */
export async function startPlatformProcesses<P extends ServiceProcess = ServiceProcess>(options: PlatformProcessesOptions<P>): Promise<PlatformProcesses<P>> {
  const { services, startFirst = [], ports = {}, env = {}, envFor = {}, create, entryFor, ...common } = options;
  const crashes: string[] = [];
  const make = create ?? ((o: ServiceProcessOptions) => new ServiceProcess(o) as P);
  const processes = new Map<string, P>();
  for (const name of services) {
    const port = ports[name] ?? (await freePort());
    const entry = entryFor?.(name) ?? common.entry;
    processes.set(name, make({ ...common, name, port, entry, env: { ...env, ...envFor[name] }, onUnexpectedExit: (message) => crashes.push(message) }));
  }
  const all = () => [...processes.values()];
  const kill = () => Promise.all(all().map((p) => p.kill().catch(() => null))).then(() => undefined);
  try {
    for (const name of startFirst) {
      const first = processes.get(name);
      if (first) await first.start().waitReady();
    }
    const rest = all().filter((p) => !startFirst.includes(p.name));
    for (const p of rest) p.start();
    await Promise.all(rest.map((p) => p.waitReady()));
  } catch (err) {
    await kill();
    throw err;
  }
  return {
    service(name) {
      const found = processes.get(name);
      if (!found) throw new Error(`${name} is not part of this platform`);
      return found;
    },
    all,
    urls: Object.fromEntries(all().map((p) => [p.name, p.url])),
    crashed: () => [...crashes],
    stop: (graceMs) => Promise.all(all().map((p) => p.stop(graceMs))),
    kill,
  };
}
