import path from "node:path";
import { fileURLToPath } from "node:url";
import { ServiceProcess, freePort, startServiceProcess, type ServiceProcessOptions } from "@cloudforet/testing";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** Identity as its own process (`services/identity/src/main.ts`), with everything it prints captured. */
export interface IdentityProcess {
  url: string;
  /** stdout and stderr so far, interleaved as they arrived. */
  output(): string;
  /** SIGTERM (SIGKILL after a minute: an embedded database can take a while to close on a loaded machine), then the exit code. */
  stop(): Promise<number | null>;
}

/** Identity with only the environment the test gives it (none of this process's database, bus or identity settings). */
const identityOptions = async (env: Record<string, string>): Promise<ServiceProcessOptions> => ({
  root,
  name: "identity",
  port: await freePort(),
  env,
  inheritEnv: (name) => name === "CLOUDFORET_LOG_CAPTURE" || !/^(DATABASE_URL|NATS_URL|IDENTITY_|CLOUDFORET_|LOG_LEVEL)/.test(name),
  keepOutput: Infinity,
});

/** Starts the process and waits for /health/ready (or its exit, which rejects with its output). */
export async function spawnIdentity(env: Record<string, string>, timeoutMs = 60_000): Promise<IdentityProcess> {
  const identity = await startServiceProcess({ ...(await identityOptions(env)), readyTimeoutMs: timeoutMs });
  return { url: identity.url, output: () => identity.output(), stop: () => identity.stop(60_000) };
}

/** Runs identity expecting it to refuse to start; resolves with its exit code and output. */
export async function failedStart(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const identity = new ServiceProcess(await identityOptions(env)).start();
  const code = await identity.exited;
  return { code, output: identity.output() };
}
