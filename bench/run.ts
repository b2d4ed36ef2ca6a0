// `pnpm bench [--quick] [name…]`: runs every bench/<name>.ts one after another (never in parallel:
// they would measure each other), then prints each one's ratio against its in-run baseline.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes("--quick");
const wanted = args.filter((a) => !a.startsWith("--"));
const benches = readdirSync(benchDir)
  .filter((f) => f.endsWith(".ts") && f !== "run.ts")
  .map((f) => f.replace(/\.ts$/, ""))
  .filter((name) => wanted.length === 0 || wanted.includes(name))
  .sort();

const summary: string[] = [];
let failed = 0;
for (const name of benches) {
  const started = Date.now();
  const result = spawnSync(process.execPath, ["--import", "tsx", path.join(benchDir, `${name}.ts`), ...(quick ? ["--quick"] : [])], {
    stdio: "inherit",
    env: process.env,
  });
  const seconds = Math.round((Date.now() - started) / 100) / 10;
  const file = path.join(benchDir, "results", `${name}.json`);
  if (result.status !== 0) {
    failed++;
    summary.push(`  ${name.padEnd(28)} FAILED (exit ${result.status ?? result.signal}) after ${seconds}s`);
  } else if (existsSync(file)) {
    const { ratio, ratioMeaning } = JSON.parse(readFileSync(file, "utf8"));
    summary.push(`  ${name.padEnd(28)} ratio ${String(ratio).padEnd(8)} ${ratioMeaning}  (${seconds}s)`);
  } else {
    summary.push(`  ${name.padEnd(28)} ran (${seconds}s) but wrote no bench/results/${name}.json`);
  }
}
process.stdout.write(`\nbenchmarks${quick ? " (quick)" : ""}:\n${summary.join("\n")}\n`);
process.exit(failed > 0 ? 1 : 0);
