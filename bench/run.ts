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

/** Every benchmark, in the order they run: one line each (bench/<name>.ts). */
const registered = [
  "rpc-overhead",
  "authenticated-read",
  "cloud-service-query",
  "resource-ingest",
  "history-overhead",
  "cost-ingest",
  "metric-ingest",
  "remote-write",
  "orchestration",
  "cron-accuracy",
  "worker-roundtrip",
  "idle-chatter",
];

// A bench file nobody registered would silently never run: say so.
for (const file of readdirSync(benchDir).filter((f) => f.endsWith(".ts") && f !== "run.ts")) {
  const name = file.replace(/\.ts$/, "");
  if (!registered.includes(name)) process.stderr.write(`bench/${file} is not registered in bench/run.ts; it does not run\n`);
}
const unknown = wanted.filter((name) => !registered.includes(name));
if (unknown.length > 0) {
  process.stderr.write(`unknown benchmark(s): ${unknown.join(", ")}; known: ${registered.join(", ")}\n`);
  process.exit(2);
}
// A Set: two people registering the same bench must not run it twice.
const benches = [...new Set(registered)].filter((name) => wanted.length === 0 || wanted.includes(name));

const summary: string[] = [];
let failed = 0;
const allStarted = Date.now();
for (const name of benches) {
  const started = Date.now();
  if (!existsSync(path.join(benchDir, `${name}.ts`))) {
    failed++;
    summary.push(`  ${name.padEnd(28)} MISSING: registered in bench/run.ts but bench/${name}.ts does not exist`);
    continue;
  }
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
process.stdout.write(`\nbenchmarks${quick ? " (quick)" : ""}, ${Math.round((Date.now() - allStarted) / 1000)}s in all:\n${summary.join("\n")}\n`);
process.exit(failed > 0 ? 1 : 0);
