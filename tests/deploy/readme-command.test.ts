// The services-mode command of README "The two commands", run as a reader would copy it: `bash -c`
// on the line itself, in the repository, against the local Postgres and NATS. Two things differ from
// a reader's terminal, both outside the line: the database in its DATABASE_URL is replaced by a fresh
// one (the services' schema names are fixed, and other test files or a developer's platform may use
// the default database), and the environment gives every service a free port (<SERVICE>_ADDR and
// <SERVICE>_URL, README "Configuration"), CONSOLE_ADDR=off and a temporary CLOUDFORET_DATA_DIR (where
// scripts/dev-keys.sh keeps the generated keys). Every service must report ready on /health/ready;
// then the whole process group is stopped with SIGTERM.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createTestDatabase, freePort, requireNats, requirePostgres, testNatsUrl, waitFor, type TestDatabase } from "@cloudforet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acquireDistLock } from "./dist-lock";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const services = ["identity", "inventory", "cloud-service", "cost", "monitoring", "notification", "orchestration"];
const variable = (service: string) => service.toUpperCase().replaceAll("-", "_");

/** The README's services-mode command: the sh block of "The two commands" that sets DATABASE_URL. */
export function readmeServicesCommand(readme: string): string {
  const section = readme.split(/^## /m).find((part) => part.startsWith("The two commands\n"));
  if (!section) throw new Error('README.md has no "The two commands" section');
  const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1].trim());
  const command = blocks.find((block) => block.includes("DATABASE_URL=") && block.includes("npm start"));
  if (!command) throw new Error('"The two commands" has no sh block starting the services with DATABASE_URL');
  return command;
}

describe("README: the services-mode command works as written", () => {
  let database: TestDatabase;
  let dataDir: string;
  let child: ChildProcess | undefined;
  let output = "";
  let releaseDist = () => {};

  beforeAll(async () => {
    // npm start rebuilds stale bundles: not while image.test.ts copies them
    releaseDist = await acquireDistLock();
    await requirePostgres();
    await requireNats();
    database = await createTestDatabase("readme_cmd");
    dataDir = mkdtempSync(path.join(tmpdir(), "cf-readme-"));
  }, 240_000);

  afterAll(async () => {
    releaseDist();
    if (child?.exitCode === null && child.pid) {
      process.kill(-child.pid, "SIGKILL");
    }
    await database?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("one line: keys from scripts/dev-keys.sh, then DATABASE_URL, NATS_URL and npm start", () => {
    const command = readmeServicesCommand(readFileSync(path.join(root, "README.md"), "utf8"));
    expect(command).not.toContain("\n");
    expect(command).toMatch(/^eval "\$\(sh scripts\/dev-keys\.sh\)" && DATABASE_URL=\S+ NATS_URL=\S+ npm start$/);
  });

  it("every service becomes ready, and SIGTERM stops them all", { timeout: 118_000 }, async () => {
    const written = readmeServicesCommand(readFileSync(path.join(root, "README.md"), "utf8"));
    const readmeDatabaseUrl = /DATABASE_URL=(\S+)/.exec(written)![1];
    const readmeNatsUrl = /NATS_URL=(\S+)/.exec(written)![1];
    // the suite's own backends when they are not the README's defaults (CI may point elsewhere)
    const command = written.replace(`DATABASE_URL=${readmeDatabaseUrl}`, `DATABASE_URL=${database.url}`).replace(`NATS_URL=${readmeNatsUrl}`, `NATS_URL=${testNatsUrl()}`);

    const ports = Object.fromEntries(await Promise.all(services.map(async (service) => [service, await freePort()] as const)));
    const env: NodeJS.ProcessEnv = { ...process.env, CONSOLE_ADDR: "off", CLOUDFORET_DATA_DIR: dataDir };
    // the keys and the password must come from the command itself, not from the test's environment
    for (const name of Object.keys(env)) if (/_KEYS$|^CLOUDFORET_ADMIN_PASSWORD$|^CLOUDFORET_START_FROM_SOURCE$/.test(name)) delete env[name];
    for (const service of services) {
      env[`${variable(service)}_ADDR`] = `127.0.0.1:${ports[service]}`;
      env[`${variable(service)}_URL`] = `http://127.0.0.1:${ports[service]}`;
    }
    env.ORCHESTRATION_HTTP_ADDR = `127.0.0.1:${await freePort()}`;

    const ready = async (service: string) => {
      try {
        return (await fetch(`http://127.0.0.1:${ports[service]}/health/ready`, { signal: AbortSignal.timeout(2_000) })).ok;
      } catch {
        return false;
      }
    };
    const started = Date.now();
    {
      child = spawn("bash", ["-c", command], { cwd: root, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
      child.stdout!.on("data", (chunk) => (output += chunk));
      child.stderr!.on("data", (chunk) => (output += chunk));
      const deadline = Date.now() + 105_000;
      for (;;) {
        if (child.exitCode !== null) throw new Error(`the command exited (${child.exitCode}):\n${output.slice(-3000)}`);
        if (output.includes("CloudForet-TS services:")) releaseDist(); // bundles built; the services are starting
        const states = await Promise.all(services.map(ready));
        if (states.every(Boolean)) break;
        if (Date.now() > deadline) {
          const waiting = services.filter((_, i) => !states[i]).join(", ");
          throw new Error(`not ready after 105 s: ${waiting}\n--- output ---\n${output.slice(-4000)}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
    process.stdout.write(`README services-mode command: all seven ready ${Date.now() - started} ms after it was run\n`);
    expect(output).toContain("CloudForet-TS services:");
    // the generated keys went to the data directory given, nowhere else
    expect(readFileSync(path.join(dataDir, "dev-keys.env"), "utf8")).toMatch(/^IDENTITY_SECRET_KEYS=main:/m);

    const exited = new Promise<number | null>((resolve) => child!.once("exit", (code) => resolve(code)));
    process.kill(-child!.pid!, "SIGTERM");
    await waitFor(async () => (await Promise.all(services.map(ready))).every((up) => !up), 20_000, "every service to stop");
    expect([0, 143, null]).toContain(await Promise.race([exited, new Promise<number>((resolve) => setTimeout(() => resolve(-1), 20_000))]));
  });
});
