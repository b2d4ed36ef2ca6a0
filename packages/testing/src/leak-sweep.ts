import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { findLeaks, type TableScan } from "./leak-scan";

/** What the secrets sweep saw in a capture directory, and what it found. */
export interface SweepSummary {
  logFiles: number;
  logLines: number;
  /** Databases and schemas scanned just before their test dropped them. */
  scopes: number;
  tables: number;
  rows: number;
  /** Canary values the tests asked for (`secretCanary()`). */
  canaries: number;
  /** Where a leak was found: "logs-123.jsonl:17 JWT eyJhbGciOi…", "db/schema: identity.users: …". */
  leaks: string[];
  /** Scans that could not run, which the sweep counts as failures: an unread table proves nothing. */
  errors: string[];
}

const filesOf = (dir: string, prefix: string, suffix: string) =>
  existsSync(dir) ? readdirSync(dir).filter((f) => f.startsWith(prefix) && f.endsWith(suffix)).sort() : [];

const linesOf = (file: string) => readFileSync(file, "utf8").split("\n").filter((line) => line.length > 0);

/**
 * Reads what a test run left in `dir`: the services' captured logs (`logs-*.jsonl`, every line
 * scanned for canaries, JWTs and API keys), the table scans made before each test database or
 * schema was dropped (`tables-*.jsonl`), and the canaries issued (`canaries-*.txt`).
 */
export function sweepCapture(dir: string): SweepSummary {
  const summary: SweepSummary = { logFiles: 0, logLines: 0, scopes: 0, tables: 0, rows: 0, canaries: 0, leaks: [], errors: [] };
  for (const file of filesOf(dir, "logs-", ".jsonl")) {
    summary.logFiles++;
    linesOf(path.join(dir, file)).forEach((line, index) => {
      summary.logLines++;
      for (const leak of findLeaks(line)) summary.leaks.push(`${file}:${index + 1} ${leak.kind} ${leak.excerpt}`);
    });
  }
  for (const file of filesOf(dir, "tables-", ".jsonl")) {
    for (const line of linesOf(path.join(dir, file))) {
      const scan = JSON.parse(line) as TableScan | { scope: string; error: string };
      summary.scopes++;
      if ("error" in scan) {
        summary.errors.push(`${scan.scope}: ${scan.error}`);
        continue;
      }
      summary.tables += scan.tables;
      summary.rows += scan.rows;
      for (const finding of scan.findings) summary.leaks.push(`${scan.scope}: ${finding}`);
    }
  }
  for (const file of filesOf(dir, "canaries-", ".txt")) summary.canaries += linesOf(path.join(dir, file)).length;
  return summary;
}
