#!/usr/bin/env node
// Brings a fresh clone to a runnable state with nothing but Node.js and npm: gets pnpm (corepack
// cannot be used here), installs the workspace, and generates the protobuf code.
import { execSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
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

// The generated code is rewritten only when its inputs changed: a `npm start` or `npm test` beside
// running processes (a test runs the README's `npm start`) must not delete files they import, and
// unchanged code keeps the service bundles (dist/) current.
const generated = path.join(root, "packages/proto/src/gen");
const stamp = path.join(generated, ".inputs-sha256");
const inputs = generationInputsHash();
if (existsSync(stamp) && readFileSync(stamp, "utf8") === inputs) {
  console.log("\n▶ generate protobuf code: current (proto/, buf.gen.yaml and protoc-gen-es unchanged)");
} else {
  if (existsSync(generated)) rmSync(generated, { recursive: true, force: true });
  step("generate protobuf code (buf generate)", pnpm, [...pnpmArgs, "exec", "buf", "generate"]);
  writeFileSync(stamp, inputs);
}

/** SHA-256 over every file under proto/, buf.yaml, buf.gen.yaml and the installed protoc-gen-es version. */
function generationInputsHash() {
  const hash = createHash("sha256");
  const add = (file) => hash.update(path.relative(root, file)).update("\0").update(readFileSync(file)).update("\0");
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else add(full);
    }
  };
  walk(path.join(root, "proto"));
  for (const file of ["buf.yaml", "buf.gen.yaml", "node_modules/@bufbuild/protoc-gen-es/package.json"]) {
    if (existsSync(path.join(root, file))) add(path.join(root, file));
  }
  return hash.digest("hex");
}
