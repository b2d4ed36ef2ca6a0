import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { cloudServiceModule } from "@cloudforet/cloud-service";
import { costModule } from "@cloudforet/cost";
import { inventoryModule } from "@cloudforet/inventory";
import { monitoringModule } from "@cloudforet/monitoring";
import { notificationModule } from "@cloudforet/notification";
import { orchestrationModule } from "@cloudforet/orchestration";
import { startTestPlatform, type TestPlatform } from "../support/platform";
import { freePort } from "@cloudforet/testing";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CFCTL = join(REPO_ROOT, "packages/cli/bin/cfctl.mjs");

/** All seven services in this process; inventory knows cloud-service's URL before it starts. */
export async function startCliPlatform(): Promise<TestPlatform> {
  const port = await freePort();
  return startTestPlatform({
    modules: [cloudServiceModule, inventoryModule, costModule, monitoringModule, notificationModule, orchestrationModule],
    env: {
      CLOUD_SERVICE_ADDR: `127.0.0.1:${port}`,
      CLOUD_SERVICE_URL: `http://127.0.0.1:${port}`,
      ORCHESTRATION_HTTP_ADDR: "127.0.0.1:0",
      ORCHESTRATION_TICK_MS: "50",
      INVENTORY_TIMEOUT_SWEEP_INTERVAL_MS: "200",
    },
  });
}

/** The CLOUDFORET_<SERVICE>_URL variables that point cfctl at the test platform's ports. */
export function serviceUrlEnv(platform: TestPlatform): Record<string, string> {
  const names = ["identity", "inventory", "cloud-service", "cost", "monitoring", "notification", "orchestration"];
  return Object.fromEntries(names.map((n) => [`CLOUDFORET_${n.toUpperCase().replace(/-/g, "_")}_URL`, platform.url(n)]));
}

export interface CfctlRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A temporary directory for a config file; removed by `cleanup`. */
export async function tempConfigDir(): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "cfctl-test-"));
  return { path: join(dir, "config.yaml"), cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * Runs `node packages/cli/bin/cfctl.mjs …` as a user would, in a child process with `env`
 * only (nothing of this process's CLOUDFORET_* leaks in), feeding `input` to stdin.
 */
export function runCfctl(args: string[], env: Record<string, string>, input = ""): Promise<CfctlRun> {
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("CLOUDFORET_") && !k.startsWith("CFCTL_")) base[k] = v;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CFCTL, ...args], { cwd: REPO_ROOT, env: { ...base, ...env }, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

export interface BackgroundProcess {
  /** The first match of the `ready` pattern in its stdout. */
  match: RegExpMatchArray;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts a long-running command of the quick start (the Prism simulator, the plugin) as a child
 * process and waits until its stdout matches `ready`; `stop` ends exactly that process.
 */
export function startBackground(args: string[], env: Record<string, string>, ready: RegExp, cwd = REPO_ROOT): Promise<BackgroundProcess> {
  const child = spawn(process.execPath, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${args.join(" ")} did not print ${ready} within 60 s:\n${stdout}\n${stderr}`));
    }, 60_000);
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
      const match = stdout.match(ready);
      if (!match) return;
      clearTimeout(timer);
      resolve({
        match,
        output: () => stdout,
        stop: async () => {
          if (child.exitCode === null) child.kill("SIGTERM");
          await exited;
        },
      });
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(" ")} exited with ${code}:\n${stdout}\n${stderr}`));
    });
  });
}
