// The secrets sweep (issue 9 §2): after the whole suite, no secret plaintext in any table or in the
// captured logs. `node --import tsx scripts/secrets-sweep.ts <capture dir> [--partial]`; scripts/test.mjs
// runs it after vitest with the directory it gave the suite as CLOUDFORET_LOG_CAPTURE.
// --partial (a subset of the tests ran) only fails on leaks, not on having seen nothing.
// By path: the workspace root does not depend on @cloudforet/testing (scripts/ has no package.json of its own).
import { sweepCapture } from "../packages/testing/src/index";

const [dir] = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const partial = process.argv.includes("--partial");
if (!dir) {
  process.stderr.write("usage: secrets-sweep.ts <capture dir> [--partial]\n");
  process.exit(2);
}

const summary = sweepCapture(dir);
const problems: string[] = [];
for (const leak of summary.leaks) problems.push(`leak: ${leak}`);
for (const error of summary.errors) problems.push(`not scanned: ${error}`);
// A sweep that read nothing, or tests that planted nothing, would pass whatever the code does
// (a subset of the tests may rightly start no service and store no secret).
if (!partial) {
  if (summary.logLines === 0) problems.push("no captured log line: the services' logs did not reach the capture directory");
  if (summary.rows === 0) problems.push("no table row scanned: no test database or schema was scanned before its drop");
  if (summary.canaries === 0) problems.push("no secret canary was issued: the tests that store secrets must use secretCanary()");
}

process.stdout.write(
  `secrets sweep: ${summary.logLines} log lines in ${summary.logFiles} files; ${summary.rows} rows in ${summary.tables} tables of ${summary.scopes} databases/schemas; ${summary.canaries} canaries planted\n`,
);
if (problems.length > 0) {
  process.stderr.write(`✖ secrets sweep failed:\n  ${problems.slice(0, 50).join("\n  ")}${problems.length > 50 ? `\n  … and ${problems.length - 50} more` : ""}\n`);
  process.exit(1);
}
process.stdout.write("✔ no secret canary, JWT or API key in any captured log line or table\n");
