import path from "node:path";
import { fileURLToPath } from "node:url";
import { startPlatformProcesses, TEST_OUTBOUND_ALLOW } from "@cloudforet/testing";
import { ADMIN_PASSWORD, IDENTITY_SECRET_KEYS, loginAdmin } from "./clients";
import { freePort } from "./ports";
import { ServiceProcess } from "./service-process";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

export interface ProcessPlatformOptions {
  /** Services to run besides identity, which always runs (it signs the tokens the others verify). */
  services: string[];
  /** Environment of every service: DATABASE_URL and NATS_URL at least. */
  env: Record<string, string>;
  /** Extra environment per service (e.g. its own DATABASE_URL). */
  envFor?: Record<string, Record<string, string>>;
}

export interface ProcessPlatform {
  /** The running service `name`. */
  service(name: string): ServiceProcess;
  all(): ServiceProcess[];
  /** A token of domain-default's administrator. */
  token: string;
  /** Kills every process; never throws. */
  close(): Promise<void>;
}

/**
 * Identity and the given services as separate processes (as tests/e2e runs them), wired to each
 * other by URL, each on a free port that stays its port across restarts.
 */
export async function startProcessPlatform(options: ProcessPlatformOptions): Promise<ProcessPlatform> {
  const names = ["identity", ...options.services.filter((s) => s !== "identity")];
  const ports = Object.fromEntries(await Promise.all(names.map(async (name) => [name, await freePort()] as const)));
  const env = {
    IDENTITY_URL: `http://127.0.0.1:${ports.identity}`,
    ...(ports["cloud-service"] ? { CLOUD_SERVICE_URL: `http://127.0.0.1:${ports["cloud-service"]}` } : {}),
    // cloud-service reads push collections' collector rules from inventory.
    ...(ports.inventory ? { INVENTORY_URL: `http://127.0.0.1:${ports.inventory}` } : {}),
    ORCHESTRATION_HTTP_ADDR: `127.0.0.1:${await freePort()}`,
    CLOUDFORET_ADMIN_PASSWORD: ADMIN_PASSWORD,
    IDENTITY_SECRET_KEYS,
    NOTIFICATION_CREDENTIALS_KEYS: `faults:${Buffer.alloc(32, 10).toString("base64")}`,
    ORCHESTRATION_CREDENTIALS_KEYS: `faults:${Buffer.alloc(32, 11).toString("base64")}`,
    INVENTORY_CREDENTIALS_KEYS: `faults:${Buffer.alloc(32, 12).toString("base64")}`,
    CLOUDFORET_OUTBOUND_ALLOW: TEST_OUTBOUND_ALLOW,
    ...options.env,
  };
  // Identity first: it bootstraps the admin and serves the keys the others fetch at start.
  const platform = await startPlatformProcesses({
    root,
    services: names,
    startFirst: ["identity"],
    ports,
    env,
    envFor: options.envFor,
    create: (o) => new ServiceProcess(o),
  });
  try {
    const token = await loginAdmin(platform.service("identity").url);
    return { service: platform.service, all: platform.all, token, close: platform.kill };
  } catch (err) {
    await platform.kill();
    throw err;
  }
}
