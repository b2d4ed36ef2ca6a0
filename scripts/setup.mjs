#!/usr/bin/env node
// Brings a fresh clone to a runnable state with nothing but Node.js and npm: gets pnpm (corepack
// cannot be used here), installs the workspace, and generates the protobuf code.
import { execSync, spawnSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const PNPM_VERSION = "10";

function step(title, command, args) {
  console.log(`\n▶ ${title}`);
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit", env: process.env });
  if (result.status !== 0) {
    console.error(`✖ ${title} failed (exit ${result.status ?? result.signal})`);
    process.exit(result.status ?? 1);
  }
}

/** The pnpm command to use: the one on PATH, else a global install, else npx. */
function findPnpm() {
  const has = (cmd) => spawnSync(cmd, ["--version"], { stdio: "ignore" }).status === 0;
  if (has("pnpm")) return ["pnpm"];
  console.log(`pnpm not found; installing pnpm@${PNPM_VERSION} with npm`);
  try {
    execSync(`npm install -g pnpm@${PNPM_VERSION}`, { stdio: "inherit" });
    if (has("pnpm")) return ["pnpm"];
  } catch {
    console.log("global install failed; using npx");
  }
  return ["npx", "-y", `pnpm@${PNPM_VERSION}`];
}

const [pnpm, ...pnpmArgs] = findPnpm();
const frozen = process.env.CI ? ["--frozen-lockfile"] : [];
step("install dependencies", pnpm, [...pnpmArgs, "install", ...frozen]);

const generated = path.join(root, "packages/proto/src/gen");
if (existsSync(generated)) rmSync(generated, { recursive: true, force: true });
step("generate protobuf code (buf generate)", pnpm, [...pnpmArgs, "exec", "buf", "generate"]);
