// `npm start`: the whole platform. With DATABASE_URL and NATS_URL both set, one process per service
// (as in production), each running its compiled bundle dist/<service>.mjs (built here when missing
// or stale); otherwise all seven in this process on embedded PGlite and the in-process bus.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  Supervisor,
  createLogger,
  installLastResortHandlers,
  logLevelOrDefault,
  readServiceConfig,
  startService,
  stopOnSignals,
  type RunningService,
} from "@cloudforet/runtime";
import { startConsoleGateway } from "../apps/console/server/gateway";
import { platformModules } from "./platform";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const logger = createLogger("platform", logLevelOrDefault());
// An exception nothing caught is logged and the platform keeps serving (all seven services in the
// embedded mode; the supervisor in the processes mode, whose children install their own).
installLastResortHandlers(logger);
// Quick start: plugins, webhooks and SMTP on this host stay reachable (README "Security"; unset in production).
process.env.CLOUDFORET_OUTBOUND_ALLOW ??= "127.0.0.1/32,::1";
// The console's gateway on this host forwards each browser's address (X-Forwarded-For); the services
// believe it from loopback only, so login throttling counts browsers, not the gateway.
if (process.env.CONSOLE_ADDR !== "off") process.env.CLOUDFORET_TRUSTED_PROXIES ??= "127.0.0.1,::1";

async function startEmbedded(): Promise<void> {
  logger.info(
    { database: process.env.DATABASE_URL ? "postgres" : "embedded PGlite (.data/)", bus: process.env.NATS_URL ? "nats" : "in-process" },
    "starting all services in one process",
  );
  const running: RunningService[] = [];
  for (const module of platformModules) running.push(await startService(module));
  stopOnSignals(running, logger);
  await printAddresses(running.map((s) => [s.name, s.url]));
}

/**
 * One child process per service, kept running: a service that exits on its own is restarted with
 * backoff (0.5 s doubling to 30 s), the others keep serving; SIGTERM/SIGINT stops them all.
 */
function startProcesses(): void {
  const compiled = compiledBundles();
  const supervisor = new Supervisor(
    platformModules.map((module) => ({
      name: module.name,
      spawn: () =>
        spawn(process.execPath, compiled ? ["--enable-source-maps", path.join(root, "dist", `${module.name}.mjs`)] : ["--import", "tsx", path.join(root, "services", module.name, "src/main.ts")], {
          cwd: root,
          env: process.env,
          stdio: "inherit",
        }),
    })),
    { logger },
  );
  supervisor.start();
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "stopping every service");
    supervisor.stop().then(() => process.exit(0));
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));
  void printAddresses(
    platformModules.map((m) => {
      const { host, port } = readServiceConfig(m.name, m.defaultPort);
      return [m.name, `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`];
    }),
  );
}

/**
 * Production runs compiled JavaScript: each service process runs dist/<service>.mjs on plain node.
 * Bundles missing or older than the sources are (re)built first (`pnpm build` builds them all ahead);
 * CLOUDFORET_START_FROM_SOURCE=1 runs the TypeScript through tsx instead, as does a failed build.
 */
function compiledBundles(): boolean {
  if (process.env.CLOUDFORET_START_FROM_SOURCE === "1") return false;
  const build = spawnSync(process.execPath, [path.join(root, "scripts/build.mjs"), "--if-stale", ...platformModules.map((m) => m.name)], { cwd: root, stdio: "inherit" });
  if (build.status === 0) return true;
  logger.warn({ exit: build.status ?? build.signal }, "building dist/ failed; running the services from source through tsx");
  return false;
}

/** Starts the web console's gateway in front of the services, then prints every address. */
async function printAddresses(rows: [string, string][]): Promise<void> {
  const consoleUrl = await startConsole(Object.fromEntries(rows));
  const lines = [...rows, ...(consoleUrl ? [["console", consoleUrl] as [string, string]] : [])].map(([name, url]) => `  ${name.padEnd(14)} ${url}`).join("\n");
  process.stdout.write(`\nCloudForet-TS services:\n${lines}\n\n`);
}

const consoleDir = path.join(root, "apps/console");

/**
 * The web console on CONSOLE_ADDR (default 0.0.0.0:8090; orchestration's REST API has 8080): its
 * built pages and every API call, routed to the service that owns it (one origin, no CORS). Built
 * here when missing or older than its sources; CONSOLE_ADDR=off leaves it out.
 */
async function startConsole(services: Record<string, string>): Promise<string | undefined> {
  const addr = process.env.CONSOLE_ADDR ?? "0.0.0.0:8090";
  if (addr === "off") return undefined;
  const dist = path.join(consoleDir, "dist");
  if (consoleIsStale(dist)) {
    // Vite itself (the console's `build` script also type-checks, which npm test does).
    const build = spawnSync(process.execPath, [path.join(consoleDir, "node_modules/vite/bin/vite.js"), "build", "--logLevel", "warn"], { cwd: consoleDir, stdio: "inherit" });
    if (build.status !== 0) {
      logger.warn({ exit: build.status ?? build.signal }, "building the web console failed; starting without it");
      return undefined;
    }
  }
  const separator = addr.lastIndexOf(":");
  const gateway = await startConsoleGateway({ host: addr.slice(0, separator), port: Number(addr.slice(separator + 1)), services, distDir: dist });
  return gateway.url;
}

function consoleIsStale(dist: string): boolean {
  const index = path.join(dist, "index.html");
  if (!existsSync(index)) return true;
  const built = statSync(index).mtimeMs;
  const newer = (dir: string): boolean =>
    readdirSync(dir, { withFileTypes: true }).some((entry) => {
      const full = path.join(dir, entry.name);
      return entry.isDirectory() ? newer(full) : statSync(full).mtimeMs > built;
    });
  return newer(path.join(consoleDir, "src"));
}

/** Keys every replica must share once the data lives in Postgres; each service also refuses to start without its own. */
const SHARED_KEYS = ["IDENTITY_SECRET_KEYS", "NOTIFICATION_CREDENTIALS_KEYS", "ORCHESTRATION_CREDENTIALS_KEYS", "INVENTORY_CREDENTIALS_KEYS"];
const missingKeys = process.env.DATABASE_URL ? SHARED_KEYS.filter((name) => !process.env[name]) : [];
if (missingKeys.length > 0) {
  // Said once here rather than by a service restarted with backoff forever.
  process.stderr.write(
    `invalid configuration:\n${missingKeys.map((name) => `  - ${name} is required when DATABASE_URL is set: kid:base64key[,kid:base64key...] with 32-byte AES keys, the same on every replica (e.g. main:$(openssl rand -base64 32))`).join("\n")}\n`,
  );
  process.exit(1);
}
if (process.env.DATABASE_URL && process.env.NATS_URL) startProcesses();
else await startEmbedded();
