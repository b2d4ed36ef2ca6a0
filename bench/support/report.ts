import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export interface BenchRow {
  /** What was measured, e.g. "ours: runtime Echo (grpc)". */
  case: string;
  /** The figure, in `unit`. */
  value: number;
  unit: string;
  /** Extra figures (p50/p99 ms, counts). */
  [extra: string]: string | number;
}

export interface BenchResult {
  name: string;
  quick: boolean;
  rows: BenchRow[];
  /** ours / baseline of the headline figure (higher is better for rates, lower for latencies). */
  ratio: number;
  ratioMeaning: string;
}

const resultsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), "../results");

/** `--quick` runs the small size CI uses; without it, the size for reports. */
export const isQuick = () => process.argv.includes("--quick");

/** Prints the table, then `ratio: …` as the last line, and writes bench/results/<name>.json. */
export function report(result: BenchResult): void {
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(path.join(resultsDir, `${result.name}.json`), `${JSON.stringify({ ...result, at: new Date().toISOString() }, null, 2)}\n`);
  const lines = result.rows.map((row) => {
    const extras = Object.entries(row)
      .filter(([key]) => !["case", "value", "unit"].includes(key))
      .map(([key, value]) => `${key}=${typeof value === "number" ? round(value) : value}`)
      .join(" ");
    return `  ${row.case.padEnd(48)} ${String(round(row.value)).padStart(12)} ${row.unit.padEnd(10)} ${extras}`;
  });
  process.stdout.write(`\n${result.name}${result.quick ? " (quick)" : ""}\n${lines.join("\n")}\n  (${result.ratioMeaning})\nratio: ${round(result.ratio)}\n`);
}

const round = (n: number) => (Math.abs(n) >= 100 ? Math.round(n) : Math.round(n * 1000) / 1000);

/** The q-quantile (0..1) of samples, in their unit. */
export function quantile(samples: number[], q: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}
