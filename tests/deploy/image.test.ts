// The Dockerfile without a Docker engine: its stages are parsed and checked, and the build stage's own
// step that assembles the runtime tree (/image/app) is run as written — on this checkout, with /app
// the repository and /image a temporary directory — so the tree the runtime stage copies is the one
// checked here: production dependencies only, every import of every bundle resolving inside it, the
// migrations beside it, its size, and services starting from it on plain node.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createTestDatabase, freePort, requireNats, requirePostgres, testNatsUrl, type TestDatabase } from "@cloudforet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withDistLock } from "./dist-lock";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const services = ["identity", "inventory", "cloud-service", "cost", "monitoring", "notification", "orchestration"];
const dockerfile = readFileSync(path.join(root, "Dockerfile"), "utf8");

interface Instruction {
  keyword: string;
  args: string;
}
interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

/** The Dockerfile's instructions (continuation lines joined, comments dropped), grouped by stage. */
function parseDockerfile(text: string): { args: Record<string, string>; stages: Stage[] } {
  const lines = text.replace(/\\\n/g, " ").split("\n").map((line) => line.trim()).filter((line) => line && !line.startsWith("#"));
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, keyword, rest] = /^(\S+)\s+(.*)$/.exec(line)!;
    if (keyword === "FROM") {
      const [, from, name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest)!;
      stages.push({ from, name, instructions: [] });
    } else if (stages.length === 0) {
      if (keyword === "ARG") {
        const [name, value] = rest.split("=");
        args[name] = value;
      }
    } else stages.at(-1)!.instructions.push({ keyword, args: rest });
  }
  return { args, stages };
}

const { args, stages } = parseDockerfile(dockerfile);
const build = stages.find((s) => s.name === "build")!;
const runtime = stages.find((s) => s.name === "runtime")!;
const runs = (stage: Stage) => stage.instructions.filter((i) => i.keyword === "RUN").map((i) => i.args);

describe("Dockerfile", () => {
  it("Node 22 LTS slim in both stages; package.json still accepts Node 20 (CI)", () => {
    expect(args.NODE_IMAGE).toBe("node:22-bookworm-slim");
    expect(stages.map((s) => [s.name, s.from])).toEqual([
      ["build", "${NODE_IMAGE}"],
      ["runtime", "${NODE_IMAGE}"],
    ]);
    const engines = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")).engines.node as string;
    expect(engines).toBe(">=20");
    expect(Number(/node:(\d+)/.exec(args.NODE_IMAGE)![1])).toBeGreaterThanOrEqual(Number(/\d+/.exec(engines)![0]));
  });

  it("build stage: lockfile-only fetch, offline install, generated code, type check and bundles, then the production tree", () => {
    const steps = runs(build);
    const compile = steps.findIndex((step) => step.includes("pnpm install --offline --frozen-lockfile"));
    expect(steps[compile]).toMatch(/pnpm exec buf generate.*pnpm exec tsc -p tsconfig\.json.*pnpm build/);
    expect(steps.findIndex((step) => step === "pnpm fetch")).toBeLessThan(compile);
    const assemble = steps.findIndex((step) => step.includes("/image/app"));
    expect(assemble).toBeGreaterThan(compile);
    expect(steps[assemble]).toContain('pnpm install --prod --frozen-lockfile --offline --filter "{./services/*}..."');
  });

  it("runtime stage: one COPY of the assembled tree, no package manager, non-root, SERVICE picks the bundle", () => {
    const copies = runtime.instructions.filter((i) => i.keyword === "COPY");
    expect(copies.map((c) => c.args)).toEqual(["--from=build /image/app /app"]);
    expect(runs(runtime).join(" ")).not.toMatch(/pnpm|npm (install|ci)|tsx/);
    expect(runs(runtime).join(" ")).toContain("/usr/local/lib/node_modules/npm");
    expect(runtime.instructions.find((i) => i.keyword === "USER")?.args).toBe("node");
    expect(runtime.instructions.find((i) => i.keyword === "ENV" && i.args.startsWith("NODE_ENV"))?.args).toContain("NODE_ENV=production");
    const cmd = JSON.parse(runtime.instructions.find((i) => i.keyword === "CMD")!.args) as string[];
    expect(cmd.slice(0, 2)).toEqual(["sh", "-c"]);
    expect(cmd[2]).toContain('exec node --enable-source-maps "dist/${SERVICE}.mjs"');
    expect(runtime.instructions.some((i) => i.keyword === "HEALTHCHECK")).toBe(true);
  });

  it("an unknown SERVICE stops the container with the list of services", () => {
    const cmd = JSON.parse(runtime.instructions.find((i) => i.keyword === "CMD")!.args) as string[];
    const fake = mkdtempSync(path.join(tmpdir(), "cf-cmd-"));
    try {
      execFileSync("mkdir", ["-p", path.join(fake, "dist")]);
      for (const service of services) execFileSync("touch", [path.join(fake, "dist", `${service}.mjs`)]);
      let failure: { status: number; stderr: string } | undefined;
      try {
        execFileSync(cmd[0], cmd.slice(1), { cwd: fake, env: { ...process.env, SERVICE: "billing" }, stdio: "pipe" });
      } catch (err) {
        failure = { status: (err as { status: number }).status, stderr: String((err as { stderr: Buffer }).stderr) };
      }
      expect(failure?.status).toBe(64);
      expect(failure?.stderr).toContain("SERVICE=billing is not one of: cloud-service cost identity inventory monitoring notification orchestration");
    } finally {
      rmSync(fake, { recursive: true, force: true });
    }
  });

  it(".dockerignore keeps host builds and installs out of the context", () => {
    const ignored = readFileSync(path.join(root, ".dockerignore"), "utf8").split("\n");
    for (const entry of ["node_modules", "**/node_modules", "dist", ".data", ".git"]) expect(ignored).toContain(entry);
  });
});

describe("the runtime tree the build stage assembles (its step run as written)", () => {
  let image: string;
  let app: string;
  let database: TestDatabase;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    await requirePostgres();
    await requireNats();
    image = mkdtempSync(path.join(tmpdir(), "cf-image-"));
    app = path.join(image, "app");
    const step = runs(build).find((s) => s.includes("/image/app"))!;
    const local = step.replaceAll("/image", image).replace(/(^|\s)\/app(?=\s|$|\/)/g, `$1${root}`);
    await withDistLock(async () => {
      execFileSync(process.execPath, ["scripts/build.mjs", "--if-stale"], { cwd: root, stdio: "pipe" });
      execFileSync("sh", ["-c", local], { cwd: root, stdio: "pipe", env: { ...process.env, CI: "true" } });
    });
    database = await createTestDatabase("image_tree");
  }, 180_000);

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    await database?.drop();
    if (image) rmSync(image, { recursive: true, force: true });
  });

  it("holds the bundles, the migrations and the services' production dependencies, nothing else", () => {
    expect(readdirSync(app).sort()).toEqual(["dist", "node_modules", "services"]);
    for (const service of services) {
      expect(existsSync(path.join(app, "dist", `${service}.mjs`)), service).toBe(true);
      expect(existsSync(path.join(app, "services", service, "drizzle", "meta", "_journal.json")), service).toBe(true);
      expect(readdirSync(path.join(app, "services", service))).toEqual(["drizzle"]);
    }
    const installed = readdirSync(path.join(app, "node_modules", ".pnpm")).map((dir) => (dir.startsWith("@") ? `@${dir.slice(1).split("@")[0]}` : dir.split("@")[0]).replace("+", "/"));
    for (const devOnly of ["typescript", "esbuild", "tsx", "vitest", "@bufbuild/buf", "dependency-cruiser", "kubernetes-models", "react", "vite", "yaml", "smtp-server"]) {
      expect(installed, devOnly).not.toContain(devOnly);
    }
    for (const runtimeDependency of ["pino", "postgres", "drizzle-orm", "@connectrpc/connect-node", "@nats-io/jetstream", "prom-client", "jose", "nodemailer", "opossum"]) {
      expect(installed, runtimeDependency).toContain(runtimeDependency);
    }
  });

  it("every third-party import of every bundle resolves inside it", () => {
    for (const service of services) {
      const bundle = readFileSync(path.join(app, "dist", `${service}.mjs`), "utf8");
      const imports = [...bundle.matchAll(/(?:from |import\()"(\.\.\/node_modules\/[^"]+)"/g)].map((m) => m[1]);
      expect(imports.length, service).toBeGreaterThan(0);
      for (const target of imports) expect(existsSync(path.join(app, "dist", target)), `${service}: ${target}`).toBe(true);
    }
  });

  it("its size (the image is node:22-bookworm-slim plus this one layer)", () => {
    let bytes = 0;
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(full);
        else bytes += lstatSync(full).size;
      }
    };
    walk(app);
    const mb = Math.round(bytes / 1e6);
    process.stdout.write(`image layer /app: ${mb} MB (apparent size of files)\n`);
    expect(mb).toBeLessThan(200);
  });

  it("services start from it on plain node, as the container's CMD runs them", { timeout: 90_000 }, async () => {
    const key = () => `main:${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64")}`;
    const started = Date.now();
    const cold: Record<string, number> = {};
    await Promise.all(
      ["identity", "orchestration"].map(async (service) => {
        const port = await freePort();
        const variable = service.toUpperCase();
        let output = "";
        const child = spawn(process.execPath, ["--enable-source-maps", `dist/${service}.mjs`], {
          cwd: app,
          env: {
            PATH: process.env.PATH,
            NODE_ENV: "production",
            SERVICE: service,
            DATABASE_URL: database.url,
            NATS_URL: testNatsUrl(),
            [`${variable}_ADDR`]: `127.0.0.1:${port}`,
            ORCHESTRATION_HTTP_ADDR: `127.0.0.1:${await freePort()}`,
            IDENTITY_SECRET_KEYS: key(),
            ORCHESTRATION_CREDENTIALS_KEYS: key(),
            CLOUDFORET_ADMIN_PASSWORD: "image-test-password",
          },
          stdio: ["ignore", "pipe", "pipe"],
        });
        children.push(child);
        child.stdout!.on("data", (chunk) => (output += chunk));
        child.stderr!.on("data", (chunk) => (output += chunk));
        const deadline = Date.now() + 80_000;
        for (;;) {
          if (child.exitCode !== null) throw new Error(`${service} exited (${child.exitCode}):\n${output.slice(-2000)}`);
          const ok = await fetch(`http://127.0.0.1:${port}/health/ready`).then((r) => r.ok, () => false);
          if (ok) break;
          if (Date.now() > deadline) throw new Error(`${service} not ready:\n${output.slice(-2000)}`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        cold[service] = Date.now() - started;
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await exited;
      }),
    );
    process.stdout.write(`cold start to /health/ready from the image tree (fresh database, migrations included): ${JSON.stringify(cold)} ms\n`);
  });
});
