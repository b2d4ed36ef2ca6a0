import { ADMIN_PASSWORD, IDENTITY_SECRET_KEYS, loginAdmin } from "./clients";
import { freePort } from "./ports";
import { ServiceProcess, startAll, stopAll } from "./service-process";

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
  const ports = new Map(await Promise.all(names.map(async (name) => [name, await freePort()] as const)));
  const env = {
    IDENTITY_URL: `http://127.0.0.1:${ports.get("identity")}`,
    ...(ports.has("cloud-service") ? { CLOUD_SERVICE_URL: `http://127.0.0.1:${ports.get("cloud-service")}` } : {}),
    ORCHESTRATION_HTTP_ADDR: `127.0.0.1:${await freePort()}`,
    CLOUDFORET_ADMIN_PASSWORD: ADMIN_PASSWORD,
    IDENTITY_SECRET_KEYS,
    ...options.env,
  };
  const processes = new Map(names.map((name) => [name, new ServiceProcess(name, ports.get(name)!, { ...env, ...options.envFor?.[name] })]));
  const all = () => [...processes.values()];
  try {
    // Identity first: it bootstraps the admin and serves the keys the others fetch at start.
    await startAll([processes.get("identity")!]);
    await startAll(all().filter((p) => p.name !== "identity"));
    const token = await loginAdmin(processes.get("identity")!.url);
    return {
      service(name) {
        const found = processes.get(name);
        if (!found) throw new Error(`${name} is not part of this platform`);
        return found;
      },
      all,
      token,
      close: () => stopAll(all()),
    };
  } catch (err) {
    await stopAll(all());
    throw err;
  }
}
