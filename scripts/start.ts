// `npm start`: the whole platform. With DATABASE_URL and NATS_URL both set, one process per service
// (as in production); otherwise all seven in this process on embedded PGlite and the in-process bus.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createLogger, logLevelOrDefault, readServiceConfig, startService, stopOnSignals, type RunningService } from "@cloudforet/runtime";
import { platformModules } from "./platform";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const logger = createLogger("platform", logLevelOrDefault());

async function startEmbedded(): Promise<void> {
  logger.info(
    { database: process.env.DATABASE_URL ? "postgres" : "embedded PGlite (.data/)", bus: process.env.NATS_URL ? "nats" : "in-process" },
    "starting all services in one process",
  );
  const running: RunningService[] = [];
  for (const module of platformModules) running.push(await startService(module));
  stopOnSignals(running, logger);
  printAddresses(running.map((s) => [s.name, s.url]));
}

function startProcesses(): void {
  const children: ChildProcess[] = [];
  for (const module of platformModules) {
    const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "services", module.name, "src/main.ts")], {
      cwd: root,
      env: process.env,
      stdio: "inherit",
    });
    child.once("exit", (code, signal) => {
      logger.warn({ service: module.name, code, signal }, "service process exited");
      if (!stopping) shutdown(1);
    });
    children.push(child);
  }
  let stopping = false;
  const shutdown = (exitCode: number) => {
    if (stopping) return;
    stopping = true;
    for (const child of children) child.kill("SIGTERM");
    Promise.all(children.map((c) => (c.exitCode !== null ? undefined : new Promise((r) => c.once("exit", r))))).then(() => process.exit(exitCode));
  };
  process.once("SIGTERM", () => shutdown(0));
  process.once("SIGINT", () => shutdown(0));
  printAddresses(
    platformModules.map((m) => {
      const { host, port } = readServiceConfig(m.name, m.defaultPort);
      return [m.name, `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`];
    }),
  );
}

function printAddresses(rows: [string, string][]): void {
  const lines = rows.map(([name, url]) => `  ${name.padEnd(14)} ${url}`).join("\n");
  process.stdout.write(`\nCloudForet-TS services:\n${lines}\n\n`);
}

if (process.env.DATABASE_URL && process.env.NATS_URL) startProcesses();
else await startEmbedded();
