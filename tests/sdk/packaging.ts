// Builds a workspace package, packs it as a user would get it, and installs the tarball into a
// scratch project outside the workspace (so nothing resolves to the repo's sources).
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";

const run = promisify(execFile);
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** pnpm as `npm test` brings it: the one on PATH, else npx pnpm@10. */
async function pnpm(args: string[], cwd: string): Promise<string> {
  try {
    return (await run("pnpm", args, { cwd, maxBuffer: 16 << 20 })).stdout;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    return (await run("npx", ["--yes", "pnpm@10", ...args], { cwd, maxBuffer: 16 << 20 })).stdout;
  }
}

/** `pnpm build` then `pnpm pack` of packages/<dir>: the path of the tarball. */
export async function buildAndPack(dir: string, destination: string): Promise<string> {
  const cwd = path.join(REPO_ROOT, "packages", dir);
  await pnpm(["run", "build"], cwd);
  // pnpm pack (not npm pack): it rewrites workspace:/catalog: versions and applies publishConfig.exports.
  const out = await pnpm(["pack", "--pack-destination", destination], cwd);
  const tarball = out.trim().split("\n").reverse().find((line) => line.endsWith(".tgz"));
  if (!tarball) throw new Error(`pnpm pack printed no tarball:\n${out}`);
  return path.isAbsolute(tarball) ? tarball : path.join(destination, path.basename(tarball));
}

/** A scratch npm project under the OS temp dir with the tarballs installed from the registry. */
export async function scratchProject(tarballs: string[]): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), "cloudforet-pack-"));
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "scratch", private: true, type: "module" }));
  await run("npm", ["install", ...tarballs, "--no-audit", "--no-fund", "--prefer-offline", "--no-package-lock"], { cwd: dir, maxBuffer: 16 << 20 });
  return dir;
}

/** Runs a node script in the scratch project; resolves with its stdout. */
export async function nodeScript(dir: string, name: string, source: string, env: Record<string, string> = {}): Promise<string> {
  writeFileSync(path.join(dir, name), source);
  const { stdout } = await run(process.execPath, [name], { cwd: dir, env: { ...process.env, ...env } });
  return stdout;
}
