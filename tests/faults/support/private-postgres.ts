import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { chown, mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import { freePort, pollUntil } from "./ports";

const BIN = process.env.FAULTS_PG_BIN ?? "/usr/local/bin";

/** How Postgres is stopped: "fast" is `pg_ctl stop -m fast` (SIGINT), "immediate" a crash stop needing WAL recovery. */
export type StopMode = "fast" | "immediate";
const stopSignal: Record<StopMode, NodeJS.Signals> = { fast: "SIGINT", immediate: "SIGQUIT" };

/** The uid/gid of the `postgres` user: Postgres refuses to run as root, which the tests are. */
function postgresUser(): { uid: number; gid: number } {
  const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
  const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
  return { uid, gid };
}

/**
 * A Postgres cluster of our own (initdb in a temp dir, on a free port, its socket in that dir),
 * which a test stops and starts again under a running service. Never the system Postgres on 5432.
 */
export class PrivatePostgres {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private readonly output: string[] = [];

  private constructor(
    readonly port: number,
    private readonly baseDir: string,
    private readonly user: { uid: number; gid: number },
  ) {}

  private get dataDir() {
    return path.join(this.baseDir, "data");
  }

  private get socketDir() {
    return path.join(this.baseDir, "socket");
  }

  /** initdb (as the postgres user, trust auth) and start. */
  static async create(): Promise<PrivatePostgres> {
    const user = postgresUser();
    const baseDir = await mkdtemp(path.join(os.tmpdir(), "faults-pg-"));
    const pg = new PrivatePostgres(await freePort(), baseDir, user);
    try {
      await chown(baseDir, user.uid, user.gid);
      await mkdir(pg.socketDir);
      await chown(pg.socketDir, user.uid, user.gid);
      execFileSync(path.join(BIN, "initdb"), ["-D", pg.dataDir, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"], {
        uid: user.uid,
        gid: user.gid,
        cwd: baseDir,
        stdio: "pipe",
        env: { PATH: process.env.PATH, LANG: "C.UTF-8", LC_ALL: "C.UTF-8" },
      });
      await pg.start();
      return pg;
    } catch (err) {
      await pg.destroy();
      throw err;
    }
  }

  /** A URL for DATABASE_URL on database `name`. */
  url(name = "postgres"): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${name}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the postmaster (again, on the same port and data) and waits until it accepts queries. */
  async start(): Promise<void> {
    if (this.running) throw new Error("postgres is already running");
    // fsync=off: the tests kill processes, never the machine, so the OS page cache keeps every
    // write the server made; it only saves the 2-core box the disk flushes.
    const args = ["-D", this.dataDir, "-p", String(this.port), "-k", this.socketDir, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=100"];
    const child = spawn(path.join(BIN, "postgres"), args, { uid: this.user.uid, gid: this.user.gid, cwd: this.baseDir, stdio: ["ignore", "pipe", "pipe"] });
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
        if (!this.running) throw new Error(`postgres exited at start:\n${this.logs()}`);
        return this.accepts();
      },
      `postgres on ${this.port}`,
      60_000,
      100,
    );
  }

  /** Stops the postmaster and waits until every backend is gone. */
  async stop(mode: StopMode = "fast"): Promise<void> {
    if (!this.running) return;
    this.child!.kill(stopSignal[mode]);
    const timer = setTimeout(() => this.child?.kill("SIGQUIT"), 20_000);
    await this.exited;
    clearTimeout(timer);
  }

  /** Runs SQL on database `name` with a connection of its own. */
  async sql<T extends Record<string, unknown>[]>(query: string, name = "postgres"): Promise<T> {
    const client = postgres(this.url(name), { max: 1, onnotice: () => {}, connect_timeout: 5 });
    try {
      return (await client.unsafe(query)) as unknown as T;
    } finally {
      await client.end({ timeout: 1 });
    }
  }

  /** Stops the server (immediately) and removes its directory; never throws. */
  async destroy(): Promise<void> {
    await this.stop("immediate").catch(() => {});
    await rm(this.baseDir, { recursive: true, force: true }).catch(() => {});
  }

  logs(): string {
    return this.output.join("");
  }

  private async accepts(): Promise<boolean> {
    try {
      await this.sql("select 1");
      return true;
    } catch {
      return false;
    }
  }
}
