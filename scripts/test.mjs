#!/usr/bin/env node
// The whole test suite: backends reachable, contracts lint-clean and compatible, types check, tests pass,
// and no secret left in plain text in a table or a log line (the secrets sweep).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const databaseUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const natsUrl = process.env.NATS_URL ?? "nats://127.0.0.1:4222";

function run(title, command, args, { allowFailure = false } = {}) {
  console.log(`\n▶ ${title}`);
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit", env: { ...process.env, DATABASE_URL: databaseUrl, NATS_URL: natsUrl } });
  if (result.status !== 0 && !allowFailure) {
    console.error(`✖ ${title} failed (exit ${result.status ?? result.signal})`);
    process.exit(result.status ?? 1);
  }
  return result.status === 0;
}

/** Resolves with the server's first bytes, or rejects with why it could not be reached. */
function probe(url, defaultPort) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname || "127.0.0.1", port: Number(port || defaultPort) });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error("timed out after 3 s"));
    }, 3000);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.end();
      resolve();
    });
    socket.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

const missing = [];
for (const [name, url, port, hint] of [
  ["PostgreSQL", databaseUrl, 5432, "start it (pg_ctlcluster 15 main start) or set DATABASE_URL"],
  ["NATS with JetStream", natsUrl, 4222, "start nats-server -js or set NATS_URL"],
]) {
  try {
    await probe(url, port);
    console.log(`✔ ${name} reachable at ${url.replace(/\/\/[^@]*@/, "//")}`);
  } catch (err) {
    missing.push(`${name} is not reachable at ${url} (${err.code ?? err.message}): ${hint}`);
  }
}
if (missing.length > 0) {
  console.error(`\n✖ The tests need real backends:\n  - ${missing.join("\n  - ")}`);
  process.exit(1);
}

run("buf lint", "pnpm", ["exec", "buf", "lint"]);
const previous = spawnSync("git", ["rev-parse", "--verify", "--quiet", "HEAD~1:buf.yaml"], { cwd: root });
if (previous.status === 0) {
  run("buf breaking (against the previous commit)", "pnpm", ["exec", "buf", "breaking", "--against", ".git#ref=HEAD~1"]);
} else {
  console.log("\n▶ buf breaking: no previous commit with a buf.yaml; nothing to compare against");
}
run("typecheck (tsc --noEmit)", "pnpm", ["exec", "tsc", "-p", "tsconfig.json"]);
// The console is TSX under its own compiler options (DOM, JSX); the root tsc does not see it.
run("typecheck the web console", "pnpm", ["--filter", "@cloudforet/console", "typecheck"]);
// Which way imports run (.dependency-cruiser.cjs): no service imports another, no package a service,
// no client-side package a server-side one, no reaching into a package's src/, no import cycle.
run("boundaries (dependency-cruiser)", "pnpm", ["exec", "depcruise", "--config", ".dependency-cruiser.cjs", "--output-type", "err", "packages", "services", "plugins", "apps", "tests", "bench", "scripts"]);
const report = path.join(mkdtempSync(path.join(tmpdir(), "vitest-")), "report.json");
// The secrets sweep's capture: every service logger of the suite tees its info lines here, every test
// database and schema is scanned here just before its drop, and every secretCanary() is counted.
const capture = mkdtempSync(path.join(tmpdir(), "cloudforet-capture-"));
process.env.CLOUDFORET_LOG_CAPTURE = capture;
const vitestArgs = process.argv.slice(2);
const passed = run("tests (vitest)", "pnpm", ["exec", "vitest", "run", "--reporter=default", "--reporter=json", `--outputFile.json=${report}`, ...vitestArgs], { allowFailure: true });
// After the whole suite: no secret plaintext in any table or captured log line (scripts/secrets-sweep.ts).
const swept = run(
  `secrets sweep (${capture})`,
  "node",
  ["--import", "tsx", "scripts/secrets-sweep.ts", capture, ...(vitestArgs.length > 0 ? ["--partial"] : [])],
  { allowFailure: true },
);
/**
 * The first failure of a flaky test, without its stack: up to six lines (a property test's seed,
 * counterexample and error come after its first line), each cut at 300 characters.
 */
function firstRunMessage(message) {
  const lines = message.split("\n").filter((line) => line.trim() !== "");
  const untilStack = lines.findIndex((line) => /^\s+at /.test(line));
  return (untilStack === -1 ? lines : lines.slice(0, untilStack))
    .slice(0, 6)
    .map((line) => line.slice(0, 300))
    .join("\n        ");
}

// One plain closing line for CI: "N passed, N failed".
try {
  const { numPassedTests, numFailedTests, numPendingTests, testResults } = JSON.parse(readFileSync(report, "utf8"));
  // A test that passed with failures on record passed only on its retry (vitest.config.ts, CI only).
  const flaky = testResults.flatMap((file) =>
    file.assertionResults
      .filter((t) => t.status === "passed" && t.failureMessages.length > 0)
      .map((t) => `${path.relative(root, file.name)} > ${t.fullName}\n      first run: ${firstRunMessage(t.failureMessages[0])}`),
  );
  for (const line of flaky) console.log(`⚠ flaky (passed on its retry): ${line}`);
  console.log(`\nvitest: ${numPassedTests} passed, ${numFailedTests} failed${numPendingTests ? `, ${numPendingTests} skipped` : ""}${flaky.length ? `, ${flaky.length} flaky` : ""}`);
} catch {
  console.log("\nvitest: no report was written");
}
if (swept) rmSync(capture, { recursive: true, force: true });
process.exit(passed && swept ? 0 : 1);
