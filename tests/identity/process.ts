import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "@cloudforet/testing";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** Identity as its own process (`services/identity/src/main.ts`), with everything it prints captured. */
export interface IdentityProcess {
  url: string;
  /** stdout and stderr so far, interleaved as they arrived. */
  output(): string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** Starts the process and waits for /health/ready (or its exit, which rejects with its output). */
export async function spawnIdentity(env: Record<string, string>, timeoutMs = 60_000): Promise<IdentityProcess> {
  const port = await freePort();
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => name === "CLOUDFORET_LOG_CAPTURE" || !/^(DATABASE_URL|NATS_URL|IDENTITY_|CLOUDFORET_|LOG_LEVEL)/.test(name)),
  );
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", path.join(root, "services/identity/src/main.ts")], {
    cwd: root,
    env: { ...inherited, IDENTITY_ADDR: `127.0.0.1:${port}`, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const chunks: string[] = [];
  child.stdout?.on("data", (chunk) => chunks.push(String(chunk)));
  child.stderr?.on("data", (chunk) => chunks.push(String(chunk)));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  while (true) {
    if (child.exitCode !== null) throw new Error(`identity exited with ${child.exitCode}:\n${chunks.join("")}`);
    if (await fetch(`${url}/health/ready`).then((r) => r.ok, () => false)) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`identity not ready after ${timeoutMs} ms:\n${chunks.join("")}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    output: () => chunks.join(""),
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}

/** Runs identity expecting it to refuse to start; resolves with its exit code and output. */
export async function failedStart(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => name === "CLOUDFORET_LOG_CAPTURE" || !/^(DATABASE_URL|NATS_URL|IDENTITY_|CLOUDFORET_|LOG_LEVEL)/.test(name)),
  );
  const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "services/identity/src/main.ts")], {
    cwd: root,
    env: { ...inherited, IDENTITY_ADDR: `127.0.0.1:${await freePort()}`, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const chunks: string[] = [];
  child.stdout?.on("data", (chunk) => chunks.push(String(chunk)));
  child.stderr?.on("data", (chunk) => chunks.push(String(chunk)));
  const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
  return { code, output: chunks.join("") };
}
