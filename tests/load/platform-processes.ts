// The seven services as separate processes (as in production) on one fresh database, for the load
// test. Identity is the real one: the load's clients log in through it.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createTestDatabase, type TestDatabase, freePort } from "@cloudforet/testing";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export const SERVICE_NAMES = ["identity", "inventory", "cloud-service", "cost", "monitoring", "notification", "orchestration"] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export interface PlatformProcesses {
  /** Base URL (h2c and HTTP/1.1 on one port) of each service. */
  urls: Record<ServiceName, string>;
  databaseUrl: string;
  adminPassword: string;
  /** Exit codes of processes that died while the platform was meant to be up. */
  crashed(): string[];
  stop(): Promise<void>;
}

const envPrefix = (name: string) => name.toUpperCase().replace(/-/g, "_");

/**
 * Starts every service with `node --import tsx services/<name>/src/main.ts`, waits for each one's
 * /health/ready. `natsUrl` unset: each process uses its in-process bus (the load's RPCs need no
 * cross-service event, and a shared JetStream would let this run's durable consumers take other
 * runs' events); set, they share JetStream as in production.
 */
export async function startPlatformProcesses(options: { natsUrl?: string; logLevel?: string } = {}): Promise<PlatformProcesses> {
  const database: TestDatabase = await createTestDatabase("load");
  const dataDir = mkdtempSync(path.join(tmpdir(), "cloudforet-load-"));
  const ports = Object.fromEntries(await Promise.all(SERVICE_NAMES.map(async (name) => [name, await freePort()] as const))) as Record<ServiceName, number>;
  const urls = Object.fromEntries(SERVICE_NAMES.map((name) => [name, `http://127.0.0.1:${ports[name]}`])) as Record<ServiceName, string>;
  const adminPassword = `Load-${randomBytes(9).toString("base64url")}`;
  const { NATS_URL: _ignored, ...inherited } = process.env;
  const shared: Record<string, string> = {
    DATABASE_URL: database.url,
    CLOUDFORET_ADMIN_PASSWORD: adminPassword,
    IDENTITY_SECRET_KEYS: `load:${randomBytes(32).toString("base64")}`,
    NOTIFICATION_CREDENTIALS_KEYS: `load:${randomBytes(32).toString("base64")}`,
    CLOUDFORET_DATA_DIR: dataDir,
    ORCHESTRATION_HTTP_ADDR: `127.0.0.1:${await freePort()}`,
    LOG_LEVEL: options.logLevel ?? "warn",
    ...(options.natsUrl ? { NATS_URL: options.natsUrl } : {}),
    ...Object.fromEntries(SERVICE_NAMES.map((name) => [`${envPrefix(name)}_URL`, urls[name]])),
  };
  const children: { name: ServiceName; child: ChildProcess; output: string[] }[] = [];
  let stopping = false;
  const crashes: string[] = [];
  const stop = async () => {
    stopping = true;
    await Promise.all(
      children.map(({ child }) =>
        child.exitCode !== null || child.signalCode !== null
          ? undefined
          : new Promise((resolve) => {
              child.once("exit", resolve);
              child.kill("SIGTERM");
            }),
      ),
    );
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  const spawnService = (name: ServiceName) => {
    const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "services", name, "src", "main.ts")], {
      cwd: root,
      env: { ...inherited, ...shared, [`${envPrefix(name)}_ADDR`]: `127.0.0.1:${ports[name]}` },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const output: string[] = [];
    const keep = (chunk: Buffer) => {
      output.push(String(chunk));
      if (output.length > 200) output.shift();
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    child.once("exit", (code, signal) => {
      if (!stopping) crashes.push(`${name} exited (${code ?? signal}):\n${output.join("").slice(-2000)}`);
    });
    children.push({ name, child, output });
  };
  try {
    // Identity first: it creates the admin the others' tokens come from and serves the JWKS.
    spawnService("identity");
    await waitReady("identity", urls.identity, children[0]);
    for (const name of SERVICE_NAMES.slice(1)) spawnService(name);
    await Promise.all(children.slice(1).map((c) => waitReady(c.name, urls[c.name], c)));
  } catch (err) {
    await stop();
    throw err;
  }
  return { urls, databaseUrl: database.url, adminPassword, crashed: () => [...crashes], stop };
}

async function waitReady(name: string, url: string, { child, output }: { child: ChildProcess; output: string[] }): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode} before it was ready:\n${output.join("")}`);
    if (await fetch(`${url}/health/ready`).then((r) => r.ok, () => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${name} was not ready within 120 s:\n${output.join("")}`);
}
