// The seven services as separate processes (as in production) on one fresh database, for the load
// test. Identity is the real one: the load's clients log in through it.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createTestDatabase, type TestDatabase, freePort, startPlatformProcesses as startServices, type PlatformProcesses as RunningServices } from "@cloudforet/testing";

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
 * Starts every service as production runs it, its compiled bundle on plain node (`node
 * dist/<name>.mjs`, built first when stale; `compiled: false` runs `node --import tsx
 * services/<name>/src/main.ts` instead), and waits for each one's /health/ready. `natsUrl` unset: each process uses its in-process bus (the load's RPCs need no
 * cross-service event, and a shared JetStream would let this run's durable consumers take other
 * runs' events); set, they share JetStream as in production.
 */
export async function startPlatformProcesses(options: { natsUrl?: string; logLevel?: string; compiled?: boolean } = {}): Promise<PlatformProcesses> {
  const compiled = options.compiled ?? true;
  if (compiled) {
    const build = spawnSync(process.execPath, [path.join(root, "scripts/build.mjs"), "--if-stale", ...SERVICE_NAMES], { cwd: root, stdio: "inherit" });
    if (build.status !== 0) throw new Error(`building the service bundles failed (exit ${build.status ?? build.signal})`);
  }
  const database: TestDatabase = await createTestDatabase("load");
  const dataDir = mkdtempSync(path.join(tmpdir(), "cloudforet-load-"));
  const ports = Object.fromEntries(await Promise.all(SERVICE_NAMES.map(async (name) => [name, await freePort()] as const))) as Record<ServiceName, number>;
  const urls = Object.fromEntries(SERVICE_NAMES.map((name) => [name, `http://127.0.0.1:${ports[name]}`])) as Record<ServiceName, string>;
  const adminPassword = `Load-${randomBytes(9).toString("base64url")}`;
  const shared: Record<string, string> = {
    DATABASE_URL: database.url,
    CLOUDFORET_ADMIN_PASSWORD: adminPassword,
    IDENTITY_SECRET_KEYS: `load:${randomBytes(32).toString("base64")}`,
    NOTIFICATION_CREDENTIALS_KEYS: `load:${randomBytes(32).toString("base64")}`,
    ORCHESTRATION_CREDENTIALS_KEYS: `load:${randomBytes(32).toString("base64")}`,
    INVENTORY_CREDENTIALS_KEYS: `load:${randomBytes(32).toString("base64")}`,
    CLOUDFORET_OUTBOUND_ALLOW: "127.0.0.1/32,::1", // local plugins, webhooks and targets
    CLOUDFORET_DATA_DIR: dataDir,
    ORCHESTRATION_HTTP_ADDR: `127.0.0.1:${await freePort()}`,
    LOG_LEVEL: options.logLevel ?? "warn",
    ...(options.natsUrl ? { NATS_URL: options.natsUrl } : {}),
    ...Object.fromEntries(SERVICE_NAMES.map((name) => [`${envPrefix(name)}_URL`, urls[name]])),
  };
  const cleanUp = async () => {
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  let platform: RunningServices;
  try {
    // Identity first: it creates the admin the others' tokens come from and serves the JWKS.
    platform = await startServices({
      root,
      services: SERVICE_NAMES,
      startFirst: ["identity"],
      ports,
      env: shared,
      inheritEnv: (variable) => variable !== "NATS_URL",
      readyTimeoutMs: 120_000,
      pollIntervalMs: 250,
      ...(compiled ? { entryFor: (name: string) => path.join("dist", `${name}.mjs`) } : {}),
    });
  } catch (err) {
    await cleanUp();
    throw err;
  }
  const stop = async () => {
    await platform.stop();
    await cleanUp();
  };
  return { urls, databaseUrl: database.url, adminPassword, crashed: platform.crashed, stop };
}
